import { InMemoryRoutingIndex, InMemoryTranscriptStore } from "@engram/core";
import { describe } from "vitest";
import { sessionRouterScenarios } from "./test-support/session-router.scenarios.js";

describe("SessionRouter [in-memory ports]", () => {
  sessionRouterScenarios((clock) => ({
    routingIndex: new InMemoryRoutingIndex({ clock }),
    transcripts: new InMemoryTranscriptStore({ clock }),
  }));
});
