import { createRequire } from "node:module";
import { createDatabase, migrateStore } from "@engram/store";

const require2 = createRequire(import.meta.resolve("@engram/store"));
const pg = require2("pg");
const qcount = new Map<string, number>();
let counting = false;
const orig = pg.Client.prototype.query;
pg.Client.prototype.query = function (q: unknown, ...rest: unknown[]) {
  if (counting) {
    const text = typeof q === "string" ? q : ((q as { text?: string })?.text ?? String(q));
    const key = text.replace(/\s+/g, " ").slice(0, 90);
    qcount.set(key, (qcount.get(key) ?? 0) + 1);
  }
  return orig.call(this, q, ...rest);
};

import { createGateway, parseGatewayConfig } from "./src/index.js";

const url = "postgres://postgres@127.0.0.1:5432/test";
const database = await createDatabase({ url });
const { sql } = await import("kysely");
await sql`drop schema if exists diag cascade`.execute(database.db);
await database.close();
const db2 = await createDatabase({ url, schema: "diag" } as never);
await migrateStore(db2.db);
const config = parseGatewayConfig({
  token: "diag-token-0123456789",
  maxAgents: 128,
  expirySweepIntervalMs: 0,
});
const gateway = createGateway({ config, db: db2.db, keyLock: db2.sessionKeyLock() });
await gateway.listen({ host: "127.0.0.1", port: 0 });
counting = true;
const t0 = Date.now();
let next = 0;
const TOTAL = 3000;
const report = setInterval(() => {
  console.log(
    next,
    "rss",
    Math.round(process.memoryUsage().rss / 2 ** 20),
    "heap",
    Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    "ms",
    Date.now() - t0,
    "cached",
    gateway.handler.queueDepth,
  );
}, 2000);
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < TOTAL) {
      const i = next++;
      const chat = String(i % 100);
      await gateway.handler.handle({
        source: { platform: "telegram", chatId: chat, chatType: "dm", userId: chat },
        text: `message ${i}`,
      });
    }
  }),
);
clearInterval(report);
counting = false;
for (const [k, v] of [...qcount].sort((a, b) => b[1] - a[1]).slice(0, 30))
  console.log((v / TOTAL).toFixed(2), k);
console.log("total per msg", ([...qcount.values()].reduce((a, b) => a + b, 0) / TOTAL).toFixed(2));
console.log(
  "ms",
  Date.now() - t0,
  "cached",
  gateway.handler && (gateway as any).metrics ? "" : "",
  "rss MiB",
  Math.round(process.memoryUsage().rss / 2 ** 20),
);
const m = await gateway.metrics.registry.metrics();
console.log(
  m
    .split("\n")
    .filter((l) => l.startsWith("engram_gateway_agent") || l.includes("commits_total"))
    .join("\n"),
);
const dirty = 0;
for (let i = 0; i < 200; i++) {
  // probe: sessions still dirty
}
await gateway.close();
await db2.close();
