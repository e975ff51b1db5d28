import {
  type Logger,
  MemoryManager,
  type MemoryProvider,
  type ProviderResult,
  type SessionSwitchOptions,
} from "@engram/core";
import { callWithin } from "../bounded-call.js";
import { describeThrown, fail } from "../check-result.js";
import { deepFreeze } from "../deep-freeze.js";
import { type ConformanceRun, runCheck } from "../provider-harness.js";
import type { MemoryProviderTestInitializer } from "../provider-test-initializer.js";

const FENCE_TAG = /<\s*\/?\s*memory-context\s*>/i;

function requireText(label: string, value: unknown): string {
  if (typeof value !== "string") fail(`${label} must return a string, got ${typeof value}`);
  return value;
}

/** Runs `syncTurn` and fails if it blocks the caller or does not settle within the syncTurn bound. */
export async function boundedSyncTurn<P extends MemoryProvider>(
  run: ConformanceRun<P>,
  sessionId: string,
  marker: string,
): Promise<void> {
  const turn = run.turn(sessionId, marker);
  const ctx = deepFreeze({ sessionId });
  const bound = run.timeouts.syncTurnMs;
  const outcome = await callWithin(() => run.provider.syncTurn(turn, ctx), bound);
  if (outcome.kind === "threw") fail(`syncTurn threw: ${describeThrown(outcome.error)}`);
  if (outcome.syncMs > bound)
    fail(`syncTurn blocked its caller for ${Math.round(outcome.syncMs)} ms (bound ${bound} ms)`);
  if (outcome.kind === "timedOut") fail(`syncTurn did not settle within ${bound} ms`);
}

/** One user turn in the documented hook order: onTurnStart -> prefetch -> syncTurn -> queuePrefetch. */
async function turn<P extends MemoryProvider>(run: ConformanceRun<P>, sessionId: string, n: number) {
  const marker = run.marker(`turn${n}`);
  const ctx = deepFreeze({ sessionId });
  const userMessage = `What do you know about ${marker}?`;
  await run.hook("onTurnStart", (p) => p.onTurnStart(deepFreeze({ sessionId, turnNumber: n, userMessage })));
  const recalled = requireText("prefetch", await run.hook("prefetch", (p) => p.prefetch(userMessage, ctx)));
  if (FENCE_TAG.test(recalled))
    fail("prefetch returned <memory-context> tags; return raw text, the manager fences it");
  await boundedSyncTurn(run, sessionId, marker);
  await run.hook("queuePrefetch", (p) => p.queuePrefetch(userMessage, ctx));
}

/**
 * Every hook accepts the documented order: initialize -> systemPromptBlock -> onTurnStart -> prefetch
 * -> syncTurn -> queuePrefetch -> onSessionSwitch -> onPreCompress -> onSessionEnd -> shutdown, with
 * frozen arguments, each settling within its bound and returning the documented type.
 */
export function hooksAcceptDocumentedOrder<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    const first = run.sessionId("order-a");
    const second = run.sessionId("order-b");
    await run.initialize(first);
    requireText("systemPromptBlock", await run.hook("systemPromptBlock", (p) => p.systemPromptBlock()));
    await turn(run, first, 1);
    const options: SessionSwitchOptions = deepFreeze({
      parentSessionId: first,
      reset: true,
      rewound: false,
      reason: "new_session",
    });
    await run.hook("onSessionSwitch", (p) => p.onSessionSwitch(second, options));
    const messages = run.transcript(run.marker("order"));
    requireText("onPreCompress", await run.hook("onPreCompress", (p) => p.onPreCompress(messages)));
    await run.hook("onSessionEnd", (p) => p.onSessionEnd(messages));
    await run.shutdown();
  });
}

/**
 * Hooks tolerate repeats: several turns, repeated recalls and memory writes, the same switch twice, two
 * ends, two shutdowns.
 */
export function hooksTolerateRepeats<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    const first = run.sessionId("repeat-a");
    const second = run.sessionId("repeat-b");
    await run.initialize(first);
    for (let n = 1; n <= 3; n++) {
      await turn(run, first, n);
      await run.hook("prefetch (repeated)", (p) => p.prefetch(`again ${n}`, { sessionId: first }));
    }
    const options: SessionSwitchOptions = deepFreeze({
      parentSessionId: first,
      reset: false,
      rewound: false,
      reason: "compression",
    });
    // The hooks outside the turn cycle, each twice.
    for (let n = 0; n < 2; n++) {
      await run.hook("onMemoryWrite", (p) =>
        p.onMemoryWrite("add", "memory", `${run.marker("write")} likes rain`, {}),
      );
      await run.hook("onDelegation", (p) =>
        p.onDelegation("summarise the notes", "done", { sessionId: first }),
      );
      requireText("systemPromptBlock", await run.hook("systemPromptBlock", (p) => p.systemPromptBlock()));
    }
    await run.hook("onSessionSwitch", (p) => p.onSessionSwitch(second, options));
    await run.hook("onSessionSwitch (same id again)", (p) => p.onSessionSwitch(second, options));
    await turn(run, second, 4);
    const messages = run.transcript(run.marker("repeat"));
    await run.hook("onPreCompress", (p) => p.onPreCompress(messages));
    await run.hook("onPreCompress (repeated)", (p) => p.onPreCompress(messages));
    await run.hook("onSessionEnd", (p) => p.onSessionEnd(messages));
    await run.hook("onSessionEnd (repeated)", (p) => p.onSessionEnd(messages));
    await run.shutdown();
    await run.shutdown("shutdown (repeated)");
  });
}

/** `syncTurn` neither blocks its caller nor takes longer than the syncTurn bound, turn after turn. */
export function syncTurnIsBounded<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    const session = run.sessionId("sync");
    await run.initialize(session);
    for (let n = 0; n < 5; n++) await boundedSyncTurn(run, session, run.marker(`sync${n}`));
  });
}

function collectingLogger(into: string[]): Logger {
  const keep = (fields: Record<string, unknown>, message: string) => {
    // Rejected tools are the tool-schema checks' business; this check judges the hooks.
    if (message.startsWith("memory provider tool skipped")) return;
    const err = fields.err === undefined ? "" : ` (${describeThrown(fields.err)})`;
    into.push(`${message}${err}`);
  };
  return { debug: () => {}, info: () => {}, warn: keep, error: keep };
}

function firstFailure(label: string, results: readonly ProviderResult<unknown>[]): void {
  for (const result of results) {
    if (!result.ok) fail(`${label} under MemoryManager: ${result.error.code} ${result.error.message}`);
  }
}

/**
 * Driven by a `MemoryManager` the way hosts drive it (background syncs and prefetches included),
 * every fan-out reports success and the manager logs no warning about the provider.
 */
export function managerFanOutsSucceed<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    const warnings: string[] = [];
    const { hookMs, toolMs, shutdownMs } = run.timeouts;
    const manager = new MemoryManager({
      hookTimeoutMs: hookMs,
      toolTimeoutMs: toolMs,
      logger: collectingLogger(warnings),
    });
    const registration = manager.addProvider(run.provider);
    if (!registration.added) fail(`MemoryManager refused the provider (${registration.refusal})`);
    const first = run.sessionId("manager-a");
    const second = run.sessionId("manager-b");
    const marker = run.marker("manager");
    firstFailure("initialize", await manager.initializeAll(run.initContext(first)));
    firstFailure("systemPromptBlock", (await manager.buildSystemPrompt()).results);
    firstFailure(
      "onTurnStart",
      await manager.onTurnStart({ sessionId: first, turnNumber: 1, userMessage: marker }),
    );
    firstFailure("prefetch", (await manager.prefetchAll(marker, { sessionId: first })).results);
    manager.syncAll(run.turn(first, marker), { sessionId: first });
    manager.queuePrefetchAll(marker, { sessionId: first });
    await manager.flushPending();
    firstFailure(
      "onSessionSwitch",
      await manager.onSessionSwitch(second, { reason: "resume", parentSessionId: first }),
    );
    const messages = run.transcript(marker);
    firstFailure("onPreCompress", (await manager.onPreCompress(messages)).results);
    firstFailure("onSessionEnd", await manager.onSessionEnd(messages));
    const report = await manager.shutdownAll({ deadlineMs: hookMs + shutdownMs });
    run.markShutDown();
    firstFailure("shutdown", report.results);
    if (warnings.length > 0) fail(`MemoryManager warned: ${warnings.join("; ")}`);
  });
}
