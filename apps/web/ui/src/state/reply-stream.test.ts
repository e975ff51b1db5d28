import { describe, expect, it } from "vitest";
import { IDLE_REPLY, isLive, type ReplyEvent, type ReplyState, replyReducer } from "./reply-stream.js";

const run = (...events: ReplyEvent[]): ReplyState => events.reduce(replyReducer, IDLE_REPLY);
const start: ReplyEvent = { type: "start", streamId: "s1", at: 5 };

describe("the streamed reply's state", () => {
  it("waits (typing indicator) until the first non-empty token, then streams", () => {
    expect(run(start).phase).toBe("waiting");
    expect(run(start, { type: "token", text: "" }).phase).toBe("waiting");
    const streaming = run(start, { type: "token", text: "Hel" }, { type: "token", text: "lo" });
    expect(streaming).toMatchObject({ phase: "streaming", text: "Hello", startedAt: 5 });
    expect(isLive(streaming)).toBe(true);
  });

  it("keeps a finished reply on screen until the saved transcript has it, then keeps only the recalls", () => {
    const recalls = [{ provider: "holographic", text: "likes tabs" }];
    const done = run(start, { type: "memory", recalls }, { type: "token", text: "ok" }, { type: "done" });
    expect(done).toMatchObject({ phase: "done", text: "ok" });
    expect(isLive(done)).toBe(false);
    const settled = replyReducer(done, { type: "settled" });
    expect(settled).toMatchObject({ phase: "idle", text: "", recalls });
  });

  it("marks a broken stream interrupted and keeps its partial text, also after settling", () => {
    const broken = run(start, { type: "token", text: "partial" }, { type: "broken" });
    expect(broken).toMatchObject({ phase: "interrupted", text: "partial" });
    expect(replyReducer(broken, { type: "settled" })).toBe(broken);
  });

  it("ignores the connection closing after the server ended the stream", () => {
    const done = run(start, { type: "token", text: "ok" }, { type: "done" }, { type: "broken" });
    expect(done.phase).toBe("done");
  });

  it("records the server's failure and ignores late tokens after it", () => {
    const failure = { code: "CONFLICT", message: "The turn stopped: model_error" };
    const failed = run(start, { type: "error", failure }, { type: "token", text: "late" });
    expect(failed).toMatchObject({ phase: "failed", failure, text: "" });
  });

  it("replaces a tool line by id as its result arrives", () => {
    const state = run(
      start,
      { type: "tool", tool: { id: "c1", name: "fact_store", args: "{}" } },
      { type: "tool", tool: { id: "c1", name: "fact_store", result: { ok: true } } },
    );
    expect(state.tools).toEqual([{ id: "c1", name: "fact_store", result: { ok: true } }]);
  });

  it("starts each turn fresh", () => {
    const again = replyReducer(run(start, { type: "token", text: "old" }, { type: "broken" }), {
      type: "start",
      streamId: "s2",
      at: 9,
    });
    expect(again).toMatchObject({ phase: "waiting", text: "", streamId: "s2", failure: null });
  });
});
