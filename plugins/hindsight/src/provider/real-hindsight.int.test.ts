// Opt-in: the provider behaviour suite against a real Hindsight server. Set HINDSIGHT_URL (and
// HINDSIGHT_API_KEY when the server wants one) to run it; otherwise it is skipped with the reason.
import { describe } from "vitest";
import { defineProviderBehaviour } from "../test-support/provider-behaviour.js";

const url = process.env.HINDSIGHT_URL?.trim();
if (!url) console.info("[hindsight] skipping the real-Hindsight lane: HINDSIGHT_URL is not set");

describe.skipIf(!url)(
  "HindsightProvider against a real Hindsight",
  () => {
    defineProviderBehaviour({
      url: () => url ?? "",
      ...(process.env.HINDSIGHT_API_KEY ? { apiKey: process.env.HINDSIGHT_API_KEY } : {}),
      // A real server extracts with an LLM: give retains time to finish.
      retainWaitMs: 120_000,
      requestMs: 60_000,
    });
  },
  300_000,
);
