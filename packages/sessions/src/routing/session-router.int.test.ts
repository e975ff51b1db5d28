import { PostgresRoutingIndex, PostgresTranscriptStore } from "@engram/store";
import { describeEachBackend } from "@engram/store/testing";
import { sessionRouterScenarios } from "./test-support/session-router.scenarios.js";

describeEachBackend("SessionRouter", (db) => {
  sessionRouterScenarios((clock) => ({
    routingIndex: new PostgresRoutingIndex(db(), { clock }),
    transcripts: new PostgresTranscriptStore(db(), { clock }),
  }));
});
