import { InMemoryRoutingIndex, InMemoryTranscriptStore } from "@engram/core";
import { describe } from "vitest";
import { routePruningScenarios } from "./test-support/route-pruning.scenarios.js";

describe("SessionExpiryWatcher route pruning (in memory)", () => {
  routePruningScenarios((clock) => ({
    routingIndex: new InMemoryRoutingIndex({ clock }),
    transcripts: new InMemoryTranscriptStore({ clock }),
  }));
});
