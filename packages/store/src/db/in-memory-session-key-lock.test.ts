import { InMemorySessionKeyLock } from "@engram/core";
import { sessionKeyLockConformance } from "./session-key-lock.conformance.js";

// The reference implementation runs the same suite as the Postgres one. Racing "processes" share one
// instance, as the turns of one process do.
let shared: InMemorySessionKeyLock | undefined;

sessionKeyLockConformance({
  name: "InMemorySessionKeyLock",
  createLock: () => {
    shared ??= new InMemorySessionKeyLock();
    return shared;
  },
  reset: () => {
    shared = undefined;
  },
});
