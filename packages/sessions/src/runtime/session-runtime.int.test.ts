// The runtime of an addressed host (the web's shape) on PGlite and Postgres: boundaries at `enter`,
// the idle sweep, the durable commit record, and the adoption of a killed run's work after a restart.
import "reflect-metadata";
import type { CommittableAgent, SessionSource, TranscriptMessage } from "@engram/core";
import type { DB } from "@engram/store";
import { describeEachBackend } from "@engram/store/testing";
import type { Kysely } from "kysely";
import { afterEach, expect, it } from "vitest";
import { createDefaultHost, type EngramHost } from "../host/index.js";
import { manualClock } from "../routing/test-support/session-router.scenarios.js";
import { EchoTurnRunner } from "../turns/echo-turn-runner.js";
import type { StoredSession } from "../turns/turn-runner.js";
import { SessionRuntime } from "./session-runtime.js";

const owner: SessionSource = { platform: "web", chatId: "owner", chatType: "dm", userId: "owner" };
const MINUTE = 60_000;

/** Echo runner whose commit count per session survives the eviction of its agent. */
class CountingRunner extends EchoTurnRunner {
  readonly commits = new Map<string, number>();
  override agentFor(sessionId: string): CommittableAgent {
    return { commitMemorySession: () => void this.commits.set(sessionId, this.count(sessionId) + 1) };
  }
  override committerFor(session: StoredSession, transcript: () => Promise<readonly TranscriptMessage[]>) {
    const inner = super.committerFor(session, transcript);
    return {
      commitMemorySession: async () => {
        await inner.commitMemorySession();
        this.commits.set(session.sessionId, this.count(session.sessionId) + 1);
      },
    };
  }
  count(sessionId: string): number {
    return this.commits.get(sessionId) ?? 0;
  }
}

describeEachBackend("SessionRuntime (routed sessions)", (db) => {
  it("routes messages by key, runs commands in the key's slot and commits the session a command leaves", async () => {
    const host = createDefaultHost({ db: db() as Kysely<DB>, clock: manualClock(Date.UTC(2026, 0, 10, 12)) });
    const runner = new CountingRunner();
    const runtime = new SessionRuntime({
      host,
      db: db() as Kysely<DB>,
      instance: "routed-test",
      runner,
      routing: {},
    });
    try {
      expect((await runtime.restore()).previousRun).toBe("first_start");
      const dm = { platform: "telegram", chatId: "5", chatType: "dm", userId: "5" };
      const first = await runtime.handleTurn({ source: dm, text: "I live in Oslo" });
      expect(first.reply).toBe("echo: I live in Oslo");
      const moved = await runtime.runCommand(dm, "/new Trip");
      expect(moved.sessionId).not.toBe(first.sessionId);
      expect(runner.count(first.sessionId)).toBe(1);
      expect(await runtime.memoryStatus(first.sessionId)).toMatchObject({
        dirty: false,
        lastCommit: { through: 1 },
      });
      await expect(runtime.runCommand(dm, "not a command")).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
      expect((await runtime.handleTurn({ source: dm, text: "next" })).sessionId).toBe(moved.sessionId);
    } finally {
      expect((await runtime.close({ drainDeadlineMs: 2_000 })).clean).toBe(true);
      await host.close();
    }
  });
});

describeEachBackend("SessionRuntime (addressed sessions)", (db) => {
  const clock = manualClock(Date.UTC(2026, 0, 10, 12));
  const open: Array<{ runtime: SessionRuntime; host: EngramHost }> = [];
  afterEach(async () => {
    for (const { runtime, host } of open.splice(0)) {
      await runtime.close({ drainDeadlineMs: 1_000 });
      await host.close();
    }
  });

  const start = async (runner = new CountingRunner(), instance = "web-test") => {
    const host = createDefaultHost({ db: db() as Kysely<DB>, clock });
    const runtime = new SessionRuntime({
      host,
      db: db() as Kysely<DB>,
      clock,
      instance,
      runner,
      adoptable: (row) => (row.sessionKey === null ? owner : undefined),
      idleCommitMs: 10 * MINUTE,
    });
    open.push({ runtime, host });
    const report = await runtime.restore();
    return { runtime, runner, report, host };
  };
  let sessions = 0;
  const newSession = async (runtime: SessionRuntime) => {
    const id = `web${++sessions}_${Date.now().toString(36)}`;
    await runtime.transcripts.createSession({ id, source: "web" });
    return id;
  };
  const turn = async (runtime: SessionRuntime, sessionId: string, text: string) => {
    await runtime.transcripts.appendMessage(sessionId, { role: "user", content: text });
    return runtime.runSessionTurn({
      sessionId,
      source: owner,
      text,
      history: [],
      save: async (completed) => {
        await runtime.transcripts.appendMessage(sessionId, { role: "assistant", content: completed.reply });
      },
    });
  };

  it("commits the owner's other sessions once when a session is entered, and records when", async () => {
    const { runtime, runner } = await start();
    const a = await newSession(runtime);
    expect(await turn(runtime, a, "I prefer tabs")).toMatchObject({
      completed: true,
      reply: "echo: I prefer tabs",
    });
    expect(await runtime.memoryStatus(a)).toEqual({ dirty: true, lastCommit: undefined });

    const b = await newSession(runtime);
    expect(await runtime.enter(b)).toEqual([a]);
    expect(runner.count(a)).toBe(1);
    expect(await runtime.memoryStatus(a)).toEqual({
      dirty: false,
      lastCommit: { at: clock.now(), through: 1 },
    });
    // Clean now: entering again (or a turn in b, which enters b) commits nothing more.
    expect(await runtime.enter(b)).toEqual([]);
    await turn(runtime, b, "what do I prefer?");
    expect(runner.count(a)).toBe(1);
    expect(runner.count(b)).toBe(0);
  });

  it("leaves the gateway's sessions in a shared database to the gateway", async () => {
    const { runtime, runner } = await start();
    await runtime.transcripts.createSession({
      id: "tg1",
      source: "telegram",
      sessionKey: "agent:main:telegram:dm:1",
    });
    await runtime.coordinator.markTurnCompleted("tg1", { agent: runner.agentFor("tg1") });
    expect(await runtime.enter(await newSession(runtime))).toEqual([]);
    expect(runner.count("tg1")).toBe(0);
  });

  it("commits a session idle past the window in the sweep, exactly once", async () => {
    const { runtime, runner } = await start();
    const a = await newSession(runtime);
    await turn(runtime, a, "remember this");
    expect(await runtime.sweep()).toEqual({ committed: [], left: [] });
    clock.advance(11 * MINUTE);
    expect(await runtime.sweep()).toEqual({ committed: [a], left: [] });
    expect(await runtime.sweep()).toEqual({ committed: [], left: [] });
    expect(runner.count(a)).toBe(1);
  });

  it("after a killed run, adopts the turns it left uncommitted and commits them once; committed work stays committed", async () => {
    const first = await start(new CountingRunner(), "web-crash");
    const a = await newSession(first.runtime);
    await turn(first.runtime, a, "committed before the crash");
    const b = await newSession(first.runtime);
    await first.runtime.enter(b);
    await turn(first.runtime, b, "left uncommitted by the crash");
    expect(first.runner.count(a)).toBe(1);
    // The process dies: no drain, no clean-shutdown marker; its ledger registration is still live.
    open.splice(0);

    const second = await start(new CountingRunner(), "web-crash");
    expect(second.report.previousRun).toBe("unclean");
    expect(second.report.reapedCommitInstances).toHaveLength(1);
    const c = await newSession(second.runtime);
    expect(await second.runtime.enter(c)).toEqual([b]);
    expect(second.runner.adopted).toEqual([{ sessionId: b, messages: 2 }]);
    expect(second.runner.count(a)).toBe(0);
    expect(await second.runtime.memoryStatus(b)).toMatchObject({ dirty: false, lastCommit: { through: 1 } });
    // The dead run's runtime is gone for good; stop its timers without a drain.
    await first.runtime.coordinator.close();
    await first.host.close();
  });
});
