/**
 * Regression (issue 13, item 4): a retried message after `/new` was stored and answered twice.
 *
 * The handler looked for a platform message id only in the key's current session (and the previous
 * one after an auto-reset), so "x"/M, `/new`, "x"/M stored M in both sessions and ran two turns. And a
 * retry it did recognise answered `reply: null`, so a client whose request timed out could never learn
 * the reply. Now the store keeps an id once per session key over all of the key's sessions, and a
 * retry answers with the original's reply, waiting (bounded) for an original turn still running, here
 * or in another process.
 */
import {
  type Clock,
  EngramError,
  InMemoryRoutingIndex,
  InMemorySessionKeyLock,
  InMemoryTranscriptStore,
  MemoryCommitCoordinator,
} from "@engram/core";
import { beforeEach, describe, expect, it } from "vitest";
import { SessionRouter } from "../routing/session-router.js";
import { manualClock } from "../routing/test-support/session-router.scenarios.js";
import { EchoTurnRunner } from "./echo-turn-runner.js";
import { SessionTurnHandler, type SessionTurnHandlerProps } from "./session-turn-handler.js";
import type { TurnInput, TurnOutput } from "./turn-runner.js";

/** Echo runner whose turns for chosen texts wait at a gate, or fail as a model call would. */
class GatedRunner extends EchoTurnRunner {
  readonly #gates = new Map<string, { open: Promise<void>; release: () => void }>();
  readonly failing = new Set<string>();

  constructor() {
    super();
    this.hold = (input) => this.#gates.get(input.text)?.open ?? Promise.resolve();
  }

  /** Turns for `text` wait until the returned function is called. */
  gate(text: string): () => void {
    let release!: () => void;
    const open = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#gates.set(text, { open, release });
    return release;
  }

  override async runTurn(input: TurnInput): Promise<TurnOutput> {
    if (this.failing.has(input.text)) {
      this.inputs.push(input);
      throw new EngramError("MODEL_FAILED", "the model is down");
    }
    return super.runTurn(input);
  }

  turnsFor(text: string): number {
    return this.inputs.filter((input) => input.text === text).length;
  }
}

const source = { platform: "telegram", chatId: "42", chatType: "dm", userId: "42" };

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  if (!condition()) throw new Error("condition never held");
}

describe("a retried message (same platform id on the same session key)", () => {
  let clock: Clock & { advance(ms: number): void };
  let transcripts: InMemoryTranscriptStore;
  let routingIndex: InMemoryRoutingIndex;

  beforeEach(() => {
    clock = manualClock(Date.UTC(2026, 0, 10, 12));
    transcripts = new InMemoryTranscriptStore({ clock });
    routingIndex = new InMemoryRoutingIndex({ clock });
  });

  /** One gateway process over the shared stores (its own queue, runner and coordinator). */
  function gateway(props: Partial<SessionTurnHandlerProps> = {}) {
    const runner = new GatedRunner();
    const router = new SessionRouter({ routingIndex, transcripts, clock });
    const coordinator = new MemoryCommitCoordinator({ clock });
    const handler = new SessionTurnHandler({
      router,
      routingIndex,
      transcripts,
      runner,
      coordinator,
      ...props,
    });
    return { handler, runner };
  }

  /** Every stored message carrying `platformId`, over all sessions of the chat's key. */
  async function storedWith(platformId: string) {
    const sessions = await transcripts.listSessions({ scope: { sessionKey: "agent:main:telegram:dm:42" } });
    const rows = [];
    for (const { session } of sessions) {
      const messages = await transcripts.getMessages(session.id, { includeInactive: true });
      rows.push(...messages.filter((m) => m.platformMessageId === platformId));
    }
    return rows;
  }

  it("after /new is not stored again and answers with the reply from the first session", async () => {
    const { handler, runner } = gateway();
    const first = await handler.handle({ source, text: "x", messageId: "M" });
    const fresh = await handler.handle({ source, text: "/new" });
    const retry = await handler.handle({ source, text: "x", messageId: "M" });
    expect(retry).toEqual({
      sessionId: first.sessionId,
      sessionKey: first.sessionKey,
      reply: "echo: x",
      duplicate: true,
    });
    expect(runner.turnsFor("x")).toBe(1);
    expect(await storedWith("M")).toHaveLength(1);
    expect(await transcripts.countMessages(fresh.sessionId)).toBe(0);
    // The key stays on the new session: the next message goes there.
    expect((await handler.handle({ source, text: "y", messageId: "N" })).sessionId).toBe(fresh.sessionId);
  });

  it("waits for its original turn while that runs, and not for later turns of the key", async () => {
    const { handler, runner } = gateway();
    const releaseX = runner.gate("x");
    const releaseY = runner.gate("y");
    const original = handler.handle({ source, text: "x", messageId: "M" });
    await until(() => runner.turnsFor("x") === 1);
    const later = handler.handle({ source, text: "y", messageId: "N" });
    let laterAnswered = false;
    void later.then(() => {
      laterAnswered = true;
    });
    const retries = [1, 2, 3].map(() => handler.handle({ source, text: "x", messageId: "M" }));
    releaseX();
    const answers = await Promise.all(retries);
    expect((await original).reply).toBe("echo: x");
    expect(answers.map((a) => [a.reply, a.duplicate])).toEqual([
      ["echo: x", true],
      ["echo: x", true],
      ["echo: x", true],
    ]);
    // Answered while the turn of "y", queued before the retries, is still held.
    expect(laterAnswered).toBe(false);
    releaseY();
    expect((await later).reply).toBe("echo: y");
    expect(await storedWith("M")).toHaveLength(1);
  });

  it("answers pending once the wait runs out, and with the reply once there is one", async () => {
    const { handler, runner } = gateway({ duplicateWaitMs: 30 });
    const release = runner.gate("slow");
    const original = handler.handle({ source, text: "slow", messageId: "M" });
    await until(() => runner.turnsFor("slow") === 1);
    const early = await handler.handle({ source, text: "slow", messageId: "M" });
    expect(early).toMatchObject({ reply: null, duplicate: true, pending: true });
    expect(early.sessionId).toBe((await transcripts.findPlatformMessage(early.sessionKey, "M"))?.sessionId);
    release();
    await original;
    const late = await handler.handle({ source, text: "slow", messageId: "M" });
    expect(late).toEqual({ ...early, reply: "echo: slow", pending: undefined });
    expect(late.pending).toBeUndefined();
  });

  it("of a turn /stop interrupted answers stopped, without a reply, and runs nothing", async () => {
    const { handler, runner } = gateway();
    runner.gate("x");
    const original = handler.handle({ source, text: "x", messageId: "M" });
    await until(() => runner.turnsFor("x") === 1);
    const retry = handler.handle({ source, text: "x", messageId: "M" });
    await handler.handle({ source, text: "/stop" });
    expect(await original).toMatchObject({ reply: null, stopped: true });
    expect(await retry).toMatchObject({ reply: null, duplicate: true, stopped: true });
    // Later, from the store: still no reply, and still not run again.
    expect(await handler.handle({ source, text: "x", messageId: "M" })).toMatchObject({
      reply: null,
      duplicate: true,
    });
    expect(runner.turnsFor("x")).toBe(1);
  });

  it("of a turn that failed answers without a reply and runs nothing again", async () => {
    const { handler, runner } = gateway();
    runner.failing.add("x");
    await expect(handler.handle({ source, text: "x", messageId: "M" })).rejects.toMatchObject({
      code: "MODEL_FAILED",
    });
    const retry = await handler.handle({ source, text: "x", messageId: "M" });
    expect(retry).toMatchObject({ reply: null, duplicate: true });
    expect(retry.pending).toBeUndefined();
    expect(runner.turnsFor("x")).toBe(1);
    expect(await storedWith("M")).toHaveLength(1);
  });

  it("in another process waits, over the shared key lock, for the original running in the first", async () => {
    const keyLock = new InMemorySessionKeyLock();
    const a = gateway({ keyLock });
    const b = gateway({ keyLock });
    const release = a.runner.gate("x");
    const original = a.handler.handle({ source, text: "x", messageId: "M" });
    await until(() => a.runner.turnsFor("x") === 1);
    // B finds M delivered but unanswered: it must wait for A's turn, not answer null.
    const retry = b.handler.handle({ source, text: "x", messageId: "M" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    expect(await retry).toMatchObject({ reply: "echo: x", duplicate: true });
    expect((await original).reply).toBe("echo: x");
    expect(b.runner.turnsFor("x")).toBe(0);
  });

  it("raced by two processes many times over is stored once, and every request gets the same reply", async () => {
    const keyLock = new InMemorySessionKeyLock();
    const processes = [gateway({ keyLock }), gateway({ keyLock })];
    for (const p of processes)
      p.runner.hold = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        processes[i % 2]!.handler.handle({ source, text: "x", messageId: "M" }),
      ),
    );
    expect(new Set(answers.map((a) => a.reply))).toEqual(new Set(["echo: x"]));
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
    expect(processes[0]!.runner.turnsFor("x") + processes[1]!.runner.turnsFor("x")).toBe(1);
    expect(await storedWith("M")).toHaveLength(1);
  });
});
