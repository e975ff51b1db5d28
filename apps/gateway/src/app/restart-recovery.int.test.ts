import type { SessionSource } from "@engram/core";
import {
  CONTINUATION_NOTE,
  EchoTurnRunner,
  migrateSessions,
  type PlatformAdapter,
  type SessionsDB,
} from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import type { Kysely } from "kysely";
import { afterEach, expect, it } from "vitest";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseGatewayConfig } from "../config/gateway-config.js";
import { manualClock } from "../test-support/manual-clock.js";

/** Echo runner whose turns wait while held (a continuation "stuck" until the process dies). */
class HoldingRunner extends EchoTurnRunner {
  #release: (() => void) | undefined;
  get texts(): string[] {
    return this.inputs.map((input) => input.text);
  }
  holdTurns(): void {
    const gate = new Promise<void>((resolve) => {
      this.#release = resolve;
    });
    this.hold = () => gate;
  }
  release(): void {
    this.hold = undefined;
    this.#release?.();
  }
}

/** A stand-in messaging platform: records what the gateway sends. */
class RecordingAdapter implements PlatformAdapter {
  readonly platform = "telegram";
  readonly sent: Array<{ chatId: string; text: string }> = [];
  register(): void {}
  async send(source: SessionSource, text: string): Promise<void> {
    this.sent.push({ chatId: source.chatId, text });
  }
}

const TOKEN = "test-token-0123456789";
const dm = (chatId: string, platform = "telegram") => ({ platform, chatId, chatType: "dm", userId: chatId });

describeEachBackend(
  "restart recovery",
  (db) => {
    const clock = manualClock(Date.UTC(2026, 0, 10, 12));
    const open: Gateway[] = [];
    afterEach(async () => {
      for (const gateway of open.splice(0)) await gateway.close({ drainDeadlineMs: 100 });
      clock.set(Date.UTC(2026, 0, 10, 12));
    });

    const boot = async (runner = new HoldingRunner(), adapters: PlatformAdapter[] = []) => {
      const config = parseGatewayConfig({ token: TOKEN, resetPolicy: { mode: "none" } });
      const gateway = createGateway({ config, db: db(), clock, runner, extraAdapters: adapters });
      open.push(gateway);
      const { address, restore: report } = await gateway.listen({ host: "127.0.0.1", port: 0 });
      return { gateway, report, runner, base: address };
    };
    /** Stops like `kill -9` would leave things: no clean-shutdown marker. */
    const crash = async (gateway: Gateway) => {
      open.splice(open.indexOf(gateway), 1);
      await gateway.close({ drainDeadlineMs: 50 });
      await (db() as unknown as Kysely<SessionsDB>)
        .updateTable("gateway_instances")
        .set({ clean_shutdown_at: null })
        .execute();
    };
    const stop = async (gateway: Gateway, drainDeadlineMs = 5000) => {
      open.splice(open.indexOf(gateway), 1);
      await gateway.close({ drainDeadlineMs });
    };
    const post = async (base: string, source: object, text: string) => {
      const response = await fetch(`${base}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ source, text }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        sessionId: string;
        sessionKey: string;
        reply: string;
        autoReset?: { reason: string };
      };
    };
    /** A turn cut off after its user message was saved (what kill -9 mid-turn leaves). */
    const interruptedTurn = async (gateway: Gateway, sessionId: string, text: string) => {
      await gateway.transcripts.appendMessage(sessionId, { role: "user", content: text });
    };
    const roles = async (gateway: Gateway, sessionId: string) =>
      (await gateway.transcripts.getMessages(sessionId)).map((m) => [m.role, m.content]);

    it("records the marker only after a drain that finished, and the next start consumes it and marks nothing", async () => {
      const first = await boot();
      expect(first.report.previousRun).toBe("first_start");
      const sent = await post(first.base, dm("1"), "hello");
      await stop(first.gateway);
      const second = await boot();
      expect(second.report).toMatchObject({ previousRun: "clean", marked: 0, suspended: [], continuing: [] });
      expect((await second.gateway.routingIndex.get(sent.sessionKey))?.resumePending).toBe(false);
      // The marker was consumed: a crash of this run makes the next start unclean.
      await crash(second.gateway);
      expect((await boot()).report.previousRun).toBe("unclean");
    });

    it("records no marker when running turns outlive the drain deadline", async () => {
      const first = await boot();
      const sent = await post(first.base, dm("2"), "hello");
      first.runner.holdTurns();
      const stuck = post(first.base, dm("2"), "slow turn").catch(() => undefined);
      while (first.gateway.handler.queueDepth === 0) await new Promise((r) => setTimeout(r, 5));
      await stop(first.gateway, 50);
      const second = await boot();
      expect(second.report.previousRun).toBe("unclean");
      // The graceful stop marked the busy key before draining; the unclean start keeps it pending.
      expect(second.report.continuing).toEqual([sent.sessionKey]);
      first.runner.release();
      await stuck;
    });

    it("after an unclean stop marks keys active within the window, continues the interrupted one first, then answers a new message", async () => {
      const first = await boot();
      const old = await post(first.base, dm("3"), "long ago");
      clock.advance(10 * 60_000);
      const recent = await post(first.base, dm("4"), "question");
      await interruptedTurn(first.gateway, recent.sessionId, "interrupted question");
      await crash(first.gateway);
      clock.advance(30_000);
      const runner = new HoldingRunner();
      runner.holdTurns();
      const adapter = new RecordingAdapter();
      const second = await boot(runner, [adapter]);
      expect(second.report).toMatchObject({
        previousRun: "unclean",
        marked: 1,
        continuing: [recent.sessionKey],
      });
      const entry = await second.gateway.routingIndex.get(recent.sessionKey);
      expect(entry).toMatchObject({ resumePending: true, resumeReason: "restart_interrupted" });
      expect((await second.gateway.routingIndex.get(old.sessionKey))?.resumePending).toBe(false);
      // A message arriving during the continuation waits behind it.
      const next = post(second.base, dm("4"), "are you back?");
      await new Promise((r) => setTimeout(r, 50));
      runner.release();
      const answered = await next;
      expect(answered.sessionId).toBe(recent.sessionId);
      expect(await roles(second.gateway, recent.sessionId)).toEqual([
        ["user", "question"],
        ["assistant", "echo: question"],
        ["user", "interrupted question"],
        ["system", CONTINUATION_NOTE],
        ["assistant", `echo: ${CONTINUATION_NOTE}`],
        ["user", "are you back?"],
        ["assistant", "echo: are you back?"],
      ]);
      expect(runner.texts).toEqual([CONTINUATION_NOTE, "are you back?"]);
      const [result] = await second.report.continuations;
      expect(result?.outcome).toMatchObject({ status: "continued", delivered: true });
      expect(adapter.sent).toEqual([{ chatId: "4", text: `echo: ${CONTINUATION_NOTE}` }]);
      expect((await second.gateway.routingIndex.get(recent.sessionKey))?.resumePending).toBe(false);
      const metrics = await second.gateway.metrics.registry.metrics();
      expect(metrics).toContain("engram_gateway_restart_restored_total 1");
      expect(metrics).toContain('engram_gateway_restart_continuations_total{result="continued"} 1');
      expect(metrics).toContain('engram_gateway_starts_total{previous_run="unclean"} 1');
    });

    it("keeps a continuation reply in the transcript when its platform has no adapter", async () => {
      const first = await boot();
      const sent = await post(first.base, dm("5", "api"), "question");
      await interruptedTurn(first.gateway, sent.sessionId, "cut off");
      await crash(first.gateway);
      const second = await boot(new HoldingRunner(), [new RecordingAdapter()]);
      const [result] = await second.report.continuations;
      expect(result?.outcome).toMatchObject({ status: "continued", delivered: false });
      expect((await roles(second.gateway, sent.sessionId)).at(-1)).toEqual([
        "assistant",
        `echo: ${CONTINUATION_NOTE}`,
      ]);
    });

    it("runs no continuation for a key whose last turn had completed before the crash, and ends its streak", async () => {
      const first = await boot();
      const sent = await post(first.base, dm("6"), "question");
      await crash(first.gateway);
      const second = await boot();
      expect(second.report.marked).toBe(1);
      const [result] = await second.report.continuations;
      expect(result?.outcome).toEqual({ status: "skipped", reason: "nothing_to_continue" });
      expect(second.runner.texts).toEqual([]);
      expect((await second.gateway.routingIndex.get(sent.sessionKey))?.resumePending).toBe(true);
      const streaks = await (db() as unknown as Kysely<SessionsDB>)
        .selectFrom("gateway_interrupted_keys")
        .selectAll()
        .execute();
      expect(streaks).toEqual([]);
    });

    it("suspends a key interrupted by three unclean starts in a row; its next message starts a new session", async () => {
      const first = await boot();
      const sent = await post(first.base, dm("7"), "question");
      await interruptedTurn(first.gateway, sent.sessionId, "loops forever");
      await crash(first.gateway);
      for (const expected of [1, 2]) {
        const runner = new HoldingRunner();
        runner.holdTurns(); // the continuation never finishes: the process dies during it
        const run = await boot(runner);
        expect(run.report.continuing, `start ${expected}`).toEqual([sent.sessionKey]);
        await crash(run.gateway);
        clock.advance(10_000);
      }
      const third = await boot();
      expect(third.report).toMatchObject({
        previousRun: "unclean",
        suspended: [sent.sessionKey],
        continuing: [],
      });
      expect((await third.gateway.routingIndex.get(sent.sessionKey))?.suspended).toBe(true);
      expect(await third.gateway.metrics.registry.metrics()).toContain(
        "engram_gateway_restart_suspended_total 1",
      );
      const next = await post(third.base, dm("7"), "hello again");
      expect(next.sessionId).not.toBe(sent.sessionId);
      expect(next.autoReset?.reason).toBe("suspended");
    });

    it("restarts the streak after a turn on the key completed", async () => {
      const first = await boot();
      const sent = await post(first.base, dm("8"), "question");
      await interruptedTurn(first.gateway, sent.sessionId, "cut off");
      await crash(first.gateway);
      const held = new HoldingRunner();
      held.holdTurns();
      const second = await boot(held); // streak 1, continuation dies with the process
      await crash(second.gateway);
      const third = await boot(); // streak 2, the continuation completes
      expect((await third.report.continuations)[0]?.outcome?.status).toBe("continued");
      await interruptedTurn(third.gateway, sent.sessionId, "cut off again");
      await crash(third.gateway);
      const stillHeld = new HoldingRunner();
      stillHeld.holdTurns();
      const fourth = await boot(stillHeld); // the streak starts over at 1: not suspended
      expect(fourth.report).toMatchObject({ suspended: [], continuing: [sent.sessionKey] });
      const streaks = () =>
        (db() as unknown as Kysely<SessionsDB>)
          .selectFrom("gateway_interrupted_keys")
          .select(["session_key", "interrupted_restarts"])
          .execute();
      expect(await streaks()).toEqual([{ session_key: sent.sessionKey, interrupted_restarts: 1 }]);
      stillHeld.release();
      await fourth.report.continuations;
      // A completed continuation ends the streak.
      expect(await streaks()).toEqual([]);
    });

    it("does not continue sessions whose resume mark is past the freshness window", async () => {
      const first = await boot();
      const sent = await post(first.base, dm("9"), "question");
      await interruptedTurn(first.gateway, sent.sessionId, "cut off");
      await first.gateway.routingIndex.markResumePending(sent.sessionKey, "gateway_shutdown");
      await stop(first.gateway);
      clock.advance(2 * 60 * 60_000);
      const second = await boot();
      expect(second.report).toMatchObject({ previousRun: "clean", continuing: [] });
    });
  },
  { setup: (db) => migrateSessions(db) },
);
