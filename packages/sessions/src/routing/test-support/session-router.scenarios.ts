import {
  type Clock,
  GATEWAY_END_REASONS,
  parseSessionSource,
  type RoutingIndex,
  type SessionSource,
  type TranscriptStore,
} from "@engram/core";
import { beforeEach, expect, it } from "vitest";
import { SessionRouter, type SessionRouterProps } from "../session-router.js";

/** A clock tests move by hand. */
export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start: number): ManualClock {
  let now = start;
  return {
    now: () => now,
    set: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface RouterPorts {
  readonly routingIndex: RoutingIndex;
  readonly transcripts: TranscriptStore;
}

/** 2026-01-10 12:00 UTC: far from the 04:00 daily boundary. */
export const START = Date.UTC(2026, 0, 10, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const dm = (chatId: string, extra: Record<string, unknown> = {}): SessionSource =>
  parseSessionSource({ platform: "telegram", chatId, chatType: "dm", userId: chatId, ...extra });
const group = (userId: string, extra: Record<string, unknown> = {}): SessionSource =>
  parseSessionSource({ platform: "discord", chatId: "g1", chatType: "group", userId, ...extra });

/**
 * The router's behaviour on any pair of ports. `createPorts` gets the clock the ports must use; it is
 * called before every test on an empty store.
 */
export function sessionRouterScenarios(
  createPorts: (clock: Clock) => RouterPorts | Promise<RouterPorts>,
): void {
  let clock: ManualClock;
  let ports: RouterPorts;
  let seq = 0;
  const router = (props: Partial<SessionRouterProps> = {}): SessionRouter =>
    new SessionRouter({
      ...ports,
      clock,
      resetPolicies: { default: { mode: "idle", atHour: 4, idleMinutes: 60 } },
      newSessionId: () => `s${String(++seq).padStart(4, "0")}_${Math.random().toString(16).slice(2, 10)}`,
      ...props,
    });

  beforeEach(async () => {
    clock = manualClock(START);
    ports = await createPorts(clock);
  });

  it("creates one session per DM chat and reuses it for the next message", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    expect(first.created).toBe(true);
    expect(first.sessionKey).toBe("agent:main:telegram:dm:42");
    const again = await r.getOrCreateSession(dm("42"));
    expect(again).toEqual({
      sessionId: first.sessionId,
      sessionKey: first.sessionKey,
      created: false,
      transcript: { messageCount: 0, updatedAt: expect.any(Number) },
    });
    const other = await r.getOrCreateSession(dm("43"));
    expect(other.sessionId).not.toBe(first.sessionId);
    const row = await ports.transcripts.getSession(first.sessionId);
    expect(row).toMatchObject({ source: "telegram", sessionKey: first.sessionKey, chatId: "42" });
  });

  it("gives each group participant their own session by default", async () => {
    const r = router();
    const alice = await r.getOrCreateSession(group("alice"));
    const bob = await r.getOrCreateSession(group("bob"));
    expect(alice.sessionId).not.toBe(bob.sessionId);
    expect((await r.getOrCreateSession(group("alice"))).sessionId).toBe(alice.sessionId);
  });

  it("shares a thread between participants unless thread isolation is on", async () => {
    const shared = router();
    const a = await shared.getOrCreateSession(group("alice", { threadId: "t1" }));
    const b = await shared.getOrCreateSession(group("bob", { threadId: "t1" }));
    expect(b.sessionId).toBe(a.sessionId);
    const isolated = router({ isolation: { threadSessionsPerUser: true } });
    const c = await isolated.getOrCreateSession(group("alice", { threadId: "t2" }));
    const d = await isolated.getOrCreateSession(group("bob", { threadId: "t2" }));
    expect(d.sessionId).not.toBe(c.sessionId);
  });

  it("resets after the idle limit and reports whether the old session had activity", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    await ports.transcripts.appendMessage(first.sessionId, { role: "user", content: "hi" });
    clock.advance(60 * MINUTE);
    expect((await r.getOrCreateSession(dm("42"))).sessionId).toBe(first.sessionId);
    clock.advance(60 * MINUTE + 1);
    const next = await r.getOrCreateSession(dm("42"));
    expect(next.sessionId).not.toBe(first.sessionId);
    expect(next).toMatchObject({
      created: true,
      autoReset: { reason: "idle", hadActivity: true },
      previousSessionId: first.sessionId,
    });
    expect((await ports.transcripts.getSession(first.sessionId))?.endReason).toBe("session_reset");
    const entry = await ports.routingIndex.get(next.sessionKey);
    expect(entry).toMatchObject({ wasAutoReset: true, autoResetReason: "idle", resetHadActivity: true });
  });

  it("resets at the daily boundary with an injected clock", async () => {
    const r = router({ resetPolicies: { default: { mode: "daily", atHour: 4, idleMinutes: 0 } } });
    clock.set(Date.UTC(2026, 0, 10, 3, 30));
    const first = await r.getOrCreateSession(dm("42"));
    clock.set(Date.UTC(2026, 0, 10, 3, 59));
    expect((await r.getOrCreateSession(dm("42"))).sessionId).toBe(first.sessionId);
    clock.set(Date.UTC(2026, 0, 10, 4, 0, 1));
    const next = await r.getOrCreateSession(dm("42"));
    expect(next).toMatchObject({ created: true, autoReset: { reason: "daily", hadActivity: false } });
  });

  it("starts a new session for a suspended key even when it is also resume-pending", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    await ports.routingIndex.markResumePending(first.sessionKey, "restart_interrupted");
    await ports.routingIndex.suspend(first.sessionKey);
    const next = await r.getOrCreateSession(dm("42"));
    expect(next).toMatchObject({ created: true, autoReset: { reason: "suspended" } });
    expect((await ports.transcripts.getSession(first.sessionId))?.endReason).toBe("session_reset");
  });

  it("keeps a resume-pending session within the freshness window and resets it after", async () => {
    const r = router({ resetPolicies: { default: { mode: "none", atHour: 4, idleMinutes: 0 } } });
    const first = await r.getOrCreateSession(dm("42"));
    await ports.routingIndex.markResumePending(first.sessionKey, "restart_interrupted");
    clock.advance(30 * MINUTE);
    const resumed = await r.getOrCreateSession(dm("42"));
    expect(resumed).toMatchObject({ sessionId: first.sessionId, created: false, resumed: true });
    // Messages keep arriving, but the window runs from the mark, not from the last message.
    clock.advance(30 * MINUTE + 1);
    const expired = await r.getOrCreateSession(dm("42"));
    expect(expired).toMatchObject({ created: true, autoReset: { reason: "resume_pending_expired" } });
  });

  it("lets the reset policy win over a fresh resume mark", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    clock.advance(2 * HOUR);
    await ports.routingIndex.markResumePending(first.sessionKey, "restart_interrupted");
    const next = await r.getOrCreateSession(dm("42"));
    expect(next).toMatchObject({ created: true, autoReset: { reason: "idle" } });
  });

  it("drops a route to a session ended elsewhere and creates a fresh one", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    await ports.transcripts.endSession(first.sessionId, GATEWAY_END_REASONS.sessionSwitch);
    const next = await r.getOrCreateSession(dm("42"));
    expect(next.sessionId).not.toBe(first.sessionId);
    expect(next.created).toBe(true);
    expect(next.autoReset).toBeUndefined();
  });

  it("heals a stale route to an agent_close session by reopening it", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    await ports.transcripts.endSession(first.sessionId, GATEWAY_END_REASONS.agentClose);
    const next = await r.getOrCreateSession(dm("42"));
    expect(next).toEqual({ sessionId: first.sessionId, sessionKey: first.sessionKey, created: false });
    expect((await ports.transcripts.getSession(first.sessionId))?.endedAt).toBeNull();
  });

  it("recovers the peer's latest session after the routing table is wiped", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    await ports.transcripts.appendMessage(first.sessionId, { role: "user", content: "hi" });
    await ports.routingIndex.delete(first.sessionKey);
    clock.advance(10 * MINUTE);
    const recovered = await r.getOrCreateSession(dm("42"));
    expect(recovered).toEqual({ sessionId: first.sessionId, sessionKey: first.sessionKey, created: false });
    expect((await ports.routingIndex.get(first.sessionKey))?.sessionId).toBe(first.sessionId);
  });

  it("does not recover a peer session the reset policy has expired", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    await ports.transcripts.appendMessage(first.sessionId, { role: "user", content: "hi" });
    await ports.routingIndex.delete(first.sessionKey);
    clock.advance(2 * HOUR);
    const next = await r.getOrCreateSession(dm("42"));
    expect(next).toMatchObject({ created: true, autoReset: { reason: "idle", hadActivity: true } });
    expect(next.sessionId).not.toBe(first.sessionId);
  });

  it("heals a route on a compressed parent to its compression tip, keeping the flags", async () => {
    const r = router();
    const parent = await r.getOrCreateSession(dm("42"));
    await ports.transcripts.startCompressionContinuation(parent.sessionId, { id: `${parent.sessionId}_c1` });
    await ports.transcripts.startCompressionContinuation(`${parent.sessionId}_c1`, {
      id: `${parent.sessionId}_c2`,
    });
    await ports.routingIndex.markResumePending(parent.sessionKey, "restart_interrupted");
    const healed = await r.getOrCreateSession(dm("42"));
    expect(healed).toMatchObject({ sessionId: `${parent.sessionId}_c2`, created: false, resumed: true });
    const entry = await ports.routingIndex.get(parent.sessionKey);
    expect(entry).toMatchObject({ sessionId: `${parent.sessionId}_c2`, resumePending: true });
  });

  it("ends the old row with session_reset on an explicit reset so nothing resurrects it", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    const reset = await r.resetSession(dm("42"));
    expect(reset).toMatchObject({ created: true, previousSessionId: first.sessionId });
    expect((await ports.transcripts.getSession(first.sessionId))?.endReason).toBe("session_reset");
    expect((await ports.routingIndex.get(first.sessionKey))?.isFreshReset).toBe(true);
    // Wipe the table: recovery finds the new session, never the reset one.
    await ports.routingIndex.delete(first.sessionKey);
    const after = await r.getOrCreateSession(dm("42"));
    expect(after.sessionId).toBe(reset.sessionId);
  });

  it("ends the compression tip, not just the compressed parent, on an explicit reset", async () => {
    const r = router();
    const parent = await r.getOrCreateSession(dm("42"));
    const tip = `${parent.sessionId}_c1`;
    await ports.transcripts.startCompressionContinuation(parent.sessionId, { id: tip });
    const reset = await r.resetSession(dm("42"));
    expect(reset.previousSessionId).toBe(tip);
    expect((await ports.transcripts.getSession(tip))?.endReason).toBe("session_reset");
    await ports.routingIndex.delete(parent.sessionKey);
    expect((await r.getOrCreateSession(dm("42"))).sessionId).toBe(reset.sessionId);
  });

  it("ends the peer's latest session on a reset when the routing table has no entry", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    await ports.routingIndex.delete(first.sessionKey);
    const reset = await r.resetSession(dm("42"));
    expect(reset.previousSessionId).toBe(first.sessionId);
    expect((await ports.transcripts.getSession(first.sessionId))?.endReason).toBe("session_reset");
  });

  it("switches to an earlier session of the same chat (even one the user reset) and ends the one it left", async () => {
    const r = router();
    const first = await r.getOrCreateSession(dm("42"));
    const second = await r.resetSession(dm("42"));
    await expect(r.switchSession(dm("43"), first.sessionId)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const switched = await r.switchSession(dm("42"), first.sessionId);
    expect(switched).toMatchObject({ sessionId: first.sessionId, previousSessionId: second.sessionId });
    expect((await ports.transcripts.getSession(second.sessionId))?.endReason).toBe("session_switch");
    expect((await ports.transcripts.getSession(first.sessionId))?.endedAt).toBeNull();
    expect((await r.getOrCreateSession(dm("42"))).sessionId).toBe(first.sessionId);
  });

  it("creates exactly one session for N concurrent first messages across routers", async () => {
    const routers = Array.from({ length: 4 }, () => router());
    for (let round = 0; round < 5; round++) {
      const source = dm(`race${round}`);
      const routes = await Promise.all(
        Array.from({ length: 12 }, (_, i) => routers[i % routers.length]!.getOrCreateSession(source)),
      );
      const ids = new Set(routes.map((route) => route.sessionId));
      expect(ids.size).toBe(1);
      expect(routes.filter((route) => route.created)).toHaveLength(1);
      const sessions = await ports.transcripts.listSessions({ scope: { source: "telegram" }, limit: 500 });
      expect(sessions.filter((item) => item.session.sessionKey === routes[0]!.sessionKey)).toHaveLength(1);
    }
  });

  it("resets exactly once when concurrent messages find an expired session", async () => {
    const routers = Array.from({ length: 3 }, () => router());
    const first = await routers[0]!.getOrCreateSession(dm("42"));
    clock.advance(2 * HOUR);
    const routes = await Promise.all(
      Array.from({ length: 9 }, (_, i) => routers[i % 3]!.getOrCreateSession(dm("42"))),
    );
    const ids = new Set(routes.map((route) => route.sessionId));
    expect(ids.size).toBe(1);
    expect(ids.has(first.sessionId)).toBe(false);
    expect(routes.filter((route) => route.autoReset)).toHaveLength(1);
  });

  it("rejects unsafe ids before touching the index", async () => {
    const r = router();
    const unsafe = { platform: "telegram", chatId: "42", chatType: "dm" as const, threadId: "../x" };
    await expect(r.getOrCreateSession(unsafe)).rejects.toMatchObject({ code: "INVALID_ID" });
    expect(await ports.routingIndex.count()).toBe(0);
  });
}
