import { PostgresRoutingIndex, PostgresTranscriptStore } from "@engram/store";
import { describeEachBackend } from "@engram/store/testing";
import { routePruningScenarios } from "./test-support/route-pruning.scenarios.js";

describeEachBackend("SessionExpiryWatcher route pruning", (db) => {
  routePruningScenarios((clock) => ({
    routingIndex: new PostgresRoutingIndex(db(), { clock }),
    transcripts: new PostgresTranscriptStore(db(), { clock }),
  }));
});
