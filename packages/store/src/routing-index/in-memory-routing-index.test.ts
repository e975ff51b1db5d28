import { InMemoryRoutingIndex } from "@engram/core";
import { routingIndexConformance } from "./routing-index.conformance.js";

// The reference implementation runs the same suite as the database ones. Racing "routers" share one
// instance, as threads of one process would.
let shared: InMemoryRoutingIndex | undefined;

routingIndexConformance({
  name: "InMemoryRoutingIndex",
  reset: async () => {
    shared = undefined;
  },
  createIndex: ({ clock }) => {
    shared ??= new InMemoryRoutingIndex({ clock });
    return shared;
  },
});
