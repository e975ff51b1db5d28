import { InMemorySessionStateStore } from "../buffer/index.js";
import { InMemoryArchiveStore } from "../ports/index.js";
import { archiveStoreConformance, sessionStateStoreConformance } from "./archive-store.conformance.js";

// The reference implementations run the same suites as the database ones. Racing "processes" share
// one instance, as tasks of one process would.
let shared: InMemoryArchiveStore | undefined;
let sharedState: InMemorySessionStateStore | undefined;

archiveStoreConformance({
  name: "InMemoryArchiveStore",
  reset: async () => {
    shared = undefined;
    sharedState = undefined;
  },
  createStore: ({ clock }) => {
    shared ??= new InMemoryArchiveStore({ clock });
    return shared;
  },
  createStateStore: () => {
    sharedState ??= new InMemorySessionStateStore();
    return sharedState;
  },
});

sessionStateStoreConformance({
  name: "InMemorySessionStateStore",
  createStore: () => new InMemorySessionStateStore(),
});
