import { InMemoryWebSessionStore } from "@engram/core";
import { webSessionStoreConformance } from "./web-session-store.conformance.js";

webSessionStoreConformance({
  name: "InMemoryWebSessionStore",
  createStore: ({ clock }) => new InMemoryWebSessionStore({ clock }),
  addExternalSession: async (store, input) => {
    // The clock is the store's own; the reference store stamps the session with it.
    (store as InMemoryWebSessionStore).addTranscriptSession(input);
  },
});
