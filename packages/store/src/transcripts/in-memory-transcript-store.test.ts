import { InMemoryTranscriptStore } from "@engram/core";
import { transcriptStoreConformance } from "../testing/transcript-store-conformance.js";

// Core's reference implementation must behave exactly like the Postgres store.
transcriptStoreConformance({
  name: "InMemoryTranscriptStore",
  createStore: (props) => new InMemoryTranscriptStore(props),
});
