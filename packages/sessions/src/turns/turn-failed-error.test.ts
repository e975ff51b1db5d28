import { ModelCallError } from "@engram/agent";
import { describe, expect, it } from "vitest";
import { TurnFailedError } from "./agent-turn-runner.js";

describe("TurnFailedError", () => {
  it("carries the model server's HTTP status, so a client can say what to fix", () => {
    const error = new TurnFailedError("s1", new ModelCallError("gpt-x", 429, new Error("slow down")));
    expect(error.code).toBe("MODEL_FAILED");
    expect(error.details).toEqual({ sessionId: "s1", status: 429 });
  });

  it("has no status when the model was never reached", () => {
    const error = new TurnFailedError(
      "s1",
      new ModelCallError("gpt-x", undefined, new Error("ECONNREFUSED")),
    );
    expect(error.details).toEqual({ sessionId: "s1" });
  });
});
