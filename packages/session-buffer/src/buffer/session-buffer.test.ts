import { describe, expect, it } from "vitest";
import { SessionBuffer } from "./session-buffer.js";
import { estimateTokens } from "./session-message.js";

const T0 = 1_000;

function buffer(...contents: Array<[role: "user" | "assistant", content: string]>): SessionBuffer {
  const buf = new SessionBuffer("s1", T0);
  for (const [role, content] of contents) buf.add({ role, content }, T0);
  return buf;
}

describe("SessionBuffer", () => {
  it("counts user messages as turns and sums token estimates", () => {
    const buf = buffer(["user", "hello there"], ["assistant", "hi!"], ["user", "x".repeat(40)]);
    expect(buf.turnCount).toBe(2);
    expect(buf.pendingTokens).toBe(estimateTokens("hello there") + estimateTokens("hi!") + 10);
    expect(buf.messages.map((m) => m.id)).toEqual([...new Set(buf.messages.map((m) => m.id))]);
    expect(buf.messages[0]?.id).toMatch(/^msg_[0-9a-f]{12}$/);
  });

  it("takes a user request phrased with an action word as the active task", () => {
    const buf = buffer(["user", "hello"]);
    expect(buf.window.activeTask).toBe("");
    buf.add({ role: "user", content: "  Can you help me plan the migration?  " }, T0);
    expect(buf.window.activeTask).toBe("Can you help me plan the migration?");
    buf.add({ role: "assistant", content: "please wait" }, T0);
    expect(buf.window.activeTask).toBe("Can you help me plan the migration?");
  });

  it("asks for compression once either threshold is reached since the last compression", () => {
    const buf = buffer(["user", "a"], ["user", "b"]);
    expect(buf.shouldCompress(3, 1000)).toBe(false);
    buf.add({ role: "user", content: "c" }, T0);
    expect(buf.shouldCompress(3, 1000)).toBe(true);
    buf.window.turnCountAtLastCompress = 3;
    expect(buf.shouldCompress(3, 1000)).toBe(false);
    buf.add({ role: "assistant", content: "y".repeat(4000) }, T0);
    expect(buf.shouldCompress(3, 1000)).toBe(true);
  });

  it("snapshot-and-clear empties the buffer and resets the watermark but keeps the extraction summary", () => {
    const buf = buffer(["user", "a"], ["assistant", "b"]);
    buf.extractionWatermark = 2;
    buf.extractionSummary = "- [add] fact";
    buf.compaction = { token: "t", archiveId: "", messageCount: 2, watermark: 2, issuedAt: T0 };
    const snapshot = buf.snapshotAndClear(T0 + 1);
    expect(snapshot.map((m) => m.content)).toEqual(["a", "b"]);
    expect(buf.messages).toHaveLength(0);
    expect(buf.turnCount).toBe(0);
    expect(buf.pendingTokens).toBe(0);
    expect(buf.extractionWatermark).toBe(0);
    expect(buf.extractionSummary).toBe("- [add] fact");
    expect(buf.compaction).toBeNull();
  });

  it("rollback puts the snapshot back first and keeps messages that arrived meanwhile after it", () => {
    const buf = buffer(["user", "a"], ["assistant", "b"]);
    buf.extractionWatermark = 1;
    const rollback = buf.captureRollbackState();
    buf.snapshotAndClear(T0);
    buf.add({ role: "user", content: "c" }, T0);
    buf.restoreRollbackState(rollback);
    expect(buf.messages.map((m) => m.content)).toEqual(["a", "b", "c"]);
    expect(buf.turnCount).toBe(2);
    expect(buf.extractionWatermark).toBe(1);
  });

  it("removes only the given messages and shifts the watermark by those removed before it", () => {
    const buf = buffer(["user", "a"], ["assistant", "b"], ["user", "c"], ["assistant", "d"]);
    buf.extractionWatermark = 3;
    const [a, b] = buf.messages;
    expect(buf.removeMessagesById(new Set([a?.id ?? "", b?.id ?? "", "msg_unknown"]), T0)).toBe(2);
    expect(buf.messages.map((m) => m.content)).toEqual(["c", "d"]);
    expect(buf.extractionWatermark).toBe(1);
    expect(buf.turnCount).toBe(1);
    expect(buf.removeMessagesById(new Set(), T0)).toBe(0);
  });

  it("rewinds the watermark to the first failed message but never forward", () => {
    const buf = buffer(["user", "a"], ["assistant", "b"], ["user", "c"]);
    buf.extractionWatermark = 3;
    const ids = buf.messages.map((m) => m.id);
    expect(buf.rewindWatermarkToIds(new Set([ids[2] ?? "", ids[1] ?? ""]), T0)).toBe(true);
    expect(buf.extractionWatermark).toBe(1);
    expect(buf.rewindWatermarkToIds(new Set([ids[2] ?? ""]), T0)).toBe(false);
    expect(buf.extractionWatermark).toBe(1);
    expect(buf.rewindWatermarkToIds(new Set(["msg_gone"]), T0)).toBe(false);
  });

  it("counts overlapping extractions and releases every waiter when the last one ends", async () => {
    const buf = buffer();
    const first = buf.beginExtraction();
    const second = buf.beginExtraction();
    expect(first).toBe(second);
    let done = false;
    void first.then(() => {
      done = true;
    });
    buf.endExtraction();
    await Promise.resolve();
    expect(done).toBe(false);
    expect(buf.extractionInProgress).toBe(true);
    buf.endExtraction();
    await first;
    expect(done).toBe(true);
    expect(buf.extractionInProgress).toBe(false);
    buf.endExtraction();
    expect(buf.activeExtractions).toBe(0);
    const third = buf.beginExtraction();
    expect(third).not.toBe(first);
    buf.endExtraction();
    await third;
  });
});
