import { describe, expect, it } from "vitest";
import { DEFAULT_COMPACTION_TOKEN_TTL_MS, SessionBufferManager } from "./session-buffer-manager.js";
import { manualClock, settle } from "./test-support/harness.js";

async function withMessages(count = 2, ttlMs?: number) {
  const clock = manualClock();
  const manager = new SessionBufferManager({
    clock,
    ...(ttlMs === undefined ? {} : { compactionTokenTtlMs: ttlMs }),
  });
  for (let i = 0; i < count; i++) await manager.addMessage("s1", { role: "user", content: `m${i}` });
  return { clock, manager };
}

describe("SessionBufferManager compaction prepare tokens", () => {
  it("issues a token that reads back with its archive id and is consumed exactly once", async () => {
    const { manager } = await withMessages();
    const token = await manager.issueCompactionToken("s1", "arch-7");
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(await manager.getCompactionToken("s1")).toEqual({ token, archiveId: "arch-7" });
    expect(await manager.getCompactionArchiveId("s1")).toBe("arch-7");
    expect(await manager.consumeCompactionToken("s1", "wrong")).toBe(false);
    expect(await manager.consumeCompactionToken("s1", "")).toBe(false);
    expect(await manager.consumeCompactionToken("s1", token)).toBe(true);
    expect(await manager.consumeCompactionToken("s1", token)).toBe(false);
    expect(await manager.getCompactionToken("s1")).toBeUndefined();
  });

  it("a new token replaces the previous one and clear removes it", async () => {
    const { manager } = await withMessages();
    const first = await manager.issueCompactionToken("s1");
    const second = await manager.issueCompactionToken("s1");
    expect(await manager.consumeCompactionToken("s1", first)).toBe(false);
    await manager.clearCompactionToken("s1");
    expect(await manager.consumeCompactionToken("s1", second)).toBe(false);
  });

  it("is invalid once a message arrives, and reading it then clears it", async () => {
    const { manager } = await withMessages();
    const token = await manager.issueCompactionToken("s1");
    await manager.addMessage("s1", { role: "assistant", content: "late" });
    expect(await manager.consumeCompactionToken("s1", token)).toBe(false);
    expect(await manager.getCompactionToken("s1")).toBeUndefined();
    // Cleared, so even restoring the message count would not revive it.
    const [late] = (await manager.getMessages("s1")).slice(-1);
    await manager.removeMessagesById("s1", [late?.id ?? ""]);
    expect(await manager.consumeCompactionToken("s1", token)).toBe(false);
  });

  it("is invalid once the extraction watermark moves", async () => {
    const { manager } = await withMessages();
    const token = await manager.issueCompactionToken("s1");
    await manager.extractPending("s1");
    expect(await manager.getCompactionToken("s1")).toBeUndefined();
    expect(await manager.consumeCompactionToken("s1", token)).toBe(false);
  });

  it("expires after the TTL (default 300 s) measured on the injected clock", async () => {
    expect(DEFAULT_COMPACTION_TOKEN_TTL_MS).toBe(300_000);
    const { clock, manager } = await withMessages();
    const token = await manager.issueCompactionToken("s1");
    clock.advance(299_999);
    expect(await manager.getCompactionToken("s1")).toEqual({ token, archiveId: "" });
    clock.advance(1);
    expect(await manager.consumeCompactionToken("s1", token)).toBe(false);
    // Expiry cleared it: turning the clock back does not revive it.
    clock.advance(-10_000);
    expect(await manager.getCompactionToken("s1")).toBeUndefined();
  });

  it("honours a per-call TTL and treats a TTL of zero or less as always expired", async () => {
    const { clock, manager } = await withMessages(1, 1000);
    const token = await manager.issueCompactionToken("s1");
    clock.advance(1500);
    expect(await manager.getCompactionToken("s1", 2000)).toEqual({ token, archiveId: "" });
    expect(await manager.consumeCompactionToken("s1", token, 0)).toBe(false);
    expect(await manager.getCompactionToken("s1", 2000)).toBeUndefined();
  });

  it("lets exactly one of many concurrent consumers win, round after round", async () => {
    const { manager } = await withMessages();
    for (let round = 0; round < 25; round++) {
      const token = await manager.issueCompactionToken("s1");
      const consumers = Array.from({ length: 16 }, async (_, i) => {
        await settle(i % 5);
        return manager.consumeCompactionToken("s1", token);
      });
      const results = await Promise.all(consumers);
      expect(results.filter(Boolean)).toHaveLength(1);
    }
  });

  it("never lets a consumer win after a racing message made the token stale", async () => {
    for (let round = 0; round < 30; round++) {
      const { manager } = await withMessages();
      const token = await manager.issueCompactionToken("s1");
      let addedAt = -1;
      let step = 0;
      const adder = (async () => {
        await settle(round % 7);
        await manager.addMessage("s1", { role: "user", content: "race" });
        addedAt = step++;
      })();
      const consumers = Array.from({ length: 6 }, async (_, i) => {
        await settle((round + i * 2) % 9);
        const won = await manager.consumeCompactionToken("s1", token);
        return { won, at: step++ };
      });
      const results = await Promise.all(consumers);
      await adder;
      const winners = results.filter((r) => r.won);
      expect(winners.length).toBeLessThanOrEqual(1);
      // A win can only have happened before the message landed.
      for (const winner of winners) expect(winner.at).toBeLessThan(addedAt);
    }
  });
});
