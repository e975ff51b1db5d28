// Child process for the "a killed holder releases its keys" test: takes `key` with its own
// PostgresSessionKeyLock, prints "held", and holds it until it is killed.
import { PostgresSessionKeyLock } from "../postgres-session-key-lock.js";

const [url, namespace, key] = process.argv.slice(2);
if (!url || !namespace || !key) throw new Error("usage: key-lock-holder-child <url> <namespace> <key>");

const lock = new PostgresSessionKeyLock({ url, namespace });
await lock.withLock(key, async () => {
  console.log("held");
  await new Promise(() => undefined);
});
