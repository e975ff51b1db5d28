import { randomUUID } from "node:crypto";
import type {
  ChatMessage,
  CompletedTurn,
  MemoryProvider,
  MemoryProviderCapabilities,
  ProviderInitContext,
} from "@engram/core";
import { callWithin } from "./bounded-call.js";
import { CheckFailure, type CheckResult, CheckSkipped, describeThrown, fail } from "./check-result.js";
import { deepFreeze } from "./deep-freeze.js";
import type {
  ConformanceTimeouts,
  MemoryProviderTestInitializer,
  ProviderSnapshot,
} from "./provider-test-initializer.js";

/** {@link ConformanceTimeouts} with every default applied. */
export type ResolvedTimeouts = Required<ConformanceTimeouts>;

export function resolveTimeouts(timeouts: ConformanceTimeouts = {}): ResolvedTimeouts {
  return {
    hookMs: timeouts.hookMs ?? 5_000,
    syncTurnMs: timeouts.syncTurnMs ?? 1_000,
    shutdownMs: timeouts.shutdownMs ?? 2_000,
    toolMs: timeouts.toolMs ?? 5_000,
  };
}

// Turn timestamps are fixed, not read from a clock: checks must not depend on when they run.
const EPOCH_MS = Date.UTC(2026, 0, 1);

/**
 * One check's provider and the helpers to drive it. Exported so provider packages can write extra
 * checks of their own in the same style (`runCheck(init, async (run) => ...)`). Every id and marker
 * it mints embeds a random run id, so checks never collide with each other or with data a shared
 * backing store already holds.
 *
 * @remarks Beta
 */
export class ConformanceRun<P extends MemoryProvider> {
  readonly #runId = randomUUID().replaceAll("-", "").slice(0, 12);
  #turns = 0;
  #shutDown = false;

  constructor(
    readonly init: MemoryProviderTestInitializer<P>,
    readonly provider: P,
    readonly timeouts: ResolvedTimeouts,
  ) {}

  /** The capabilities the checks go by: the initializer's when it declares them, else the provider's. */
  get capabilities(): Readonly<Partial<MemoryProviderCapabilities>> {
    return this.init.capabilities ?? this.provider.capabilities ?? {};
  }

  /** Providers built by {@link another}, shut down and destroyed by the harness after the check. */
  readonly others: P[] = [];

  /**
   * A further provider for `ctx` (a later session, another user's scope), built with the initializer's
   * `createProvider(ctx)` and cleaned up by the harness like the first one. The caller initialises it.
   */
  async another(ctx: ProviderInitContext): Promise<P> {
    const created = await callWithin(() => this.init.createProvider(ctx), this.timeouts.hookMs);
    if (created.kind === "threw") fail(`createProvider threw: ${describeThrown(created.error)}`);
    if (created.kind === "timedOut") fail(`createProvider did not settle within ${this.timeouts.hookMs} ms`);
    this.others.push(created.value);
    return created.value;
  }

  /** Calls a hook of `provider` (one from {@link another}) under the same bounds as {@link hook}. */
  async hookOf<T>(
    provider: P,
    label: string,
    fn: (provider: P) => T | PromiseLike<T>,
    boundMs?: number,
  ): Promise<T> {
    const bound = boundMs ?? this.timeouts.hookMs;
    const outcome = await callWithin(() => fn(provider), bound);
    if (outcome.kind === "threw") fail(`${label} threw: ${describeThrown(outcome.error)}`);
    if (outcome.kind === "timedOut") fail(`${label} did not settle within ${bound} ms`);
    return outcome.value;
  }

  /** Whether the check has called `shutdown` (the harness then does not call it again). */
  get shutDown(): boolean {
    return this.#shutDown;
  }

  /** A session id unique to this run: `conformance-<run>-<label>`. */
  sessionId(label: string): string {
    return `conformance-${this.#runId}-${label}`;
  }

  /** A word unique to this run that keyword search can find: letters and digits only. */
  marker(label: string): string {
    return `zq${this.#runId}${label.replace(/[^A-Za-z0-9]/g, "")}`;
  }

  initContext(sessionId: string): ProviderInitContext {
    return deepFreeze({
      platform: "cli",
      agentContext: "primary",
      extra: {},
      ...this.init.initContext,
      sessionId,
    });
  }

  /** A completed turn that mentions `marker` on both sides; frozen, as hooks must not mutate it. */
  turn(sessionId: string, marker: string): CompletedTurn {
    this.#turns += 1;
    return deepFreeze({
      sessionId,
      user: `Please remember that the ${marker} project ships on Fridays.`,
      assistant: `Noted: the ${marker} project ships on Fridays.`,
      timestamp: EPOCH_MS + this.#turns * 1_000,
    });
  }

  /** A short final transcript mentioning `marker`; frozen. */
  transcript(marker: string): readonly ChatMessage[] {
    return deepFreeze([
      { role: "user", content: `I always prefer the ${marker} tea blend in the morning.` },
      { role: "assistant", content: `Understood: ${marker} tea in the morning.` },
    ]);
  }

  /**
   * Calls a hook and fails the check if it throws, rejects or does not settle within `boundMs`
   * (default: the hook bound).
   */
  async hook<T>(label: string, fn: (provider: P) => T | PromiseLike<T>, boundMs?: number): Promise<T> {
    const bound = boundMs ?? this.timeouts.hookMs;
    const outcome = await callWithin(() => fn(this.provider), bound);
    if (outcome.kind === "threw") fail(`${label} threw: ${describeThrown(outcome.error)}`);
    if (outcome.kind === "timedOut") fail(`${label} did not settle within ${bound} ms`);
    return outcome.value;
  }

  async initialize(sessionId: string): Promise<void> {
    const ctx = this.initContext(sessionId);
    await this.hook("initialize", (p) => p.initialize(ctx));
  }

  /** Records that something else (a `MemoryManager`) shut the provider down. */
  markShutDown(): void {
    this.#shutDown = true;
  }

  async shutdown(label = "shutdown"): Promise<void> {
    this.#shutDown = true;
    await this.hook(label, (p) => p.shutdown(), this.timeouts.shutdownMs);
  }

  /** The provider's writes through the initializer's probe; skips the check when there is no probe. */
  async snapshot(): Promise<ProviderSnapshot> {
    const probe = this.init.probe;
    if (probe === undefined) throw new CheckSkipped("the initializer supplies no probe");
    const outcome = await callWithin(() => probe(this.provider), this.timeouts.hookMs);
    if (outcome.kind === "threw") fail(`probe threw: ${describeThrown(outcome.error)}`);
    if (outcome.kind === "timedOut") fail(`probe did not settle within ${this.timeouts.hookMs} ms`);
    const writes = (outcome.value as Partial<ProviderSnapshot> | undefined)?.writes;
    if (!Array.isArray(writes)) fail("probe did not return { writes: [...] }");
    return outcome.value;
  }
}

/**
 * Runs one check on a fresh provider: creates it, runs `body`, then shuts it down (unless the body
 * did) and destroys it. Failures, skips and unexpected throws all come back as a {@link CheckResult};
 * this never throws.
 */
export async function runCheck<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
  body: (run: ConformanceRun<P>) => Promise<void>,
): Promise<CheckResult> {
  const timeouts = resolveTimeouts(init.timeouts);
  const created = await callWithin(() => init.createProvider(), timeouts.hookMs);
  if (created.kind === "threw")
    return { ok: false, reason: `createProvider threw: ${describeThrown(created.error)}` };
  if (created.kind === "timedOut") {
    return { ok: false, reason: `createProvider did not settle within ${timeouts.hookMs} ms` };
  }
  const run = new ConformanceRun(init, created.value, timeouts);
  let result: CheckResult;
  try {
    await body(run);
    result = { ok: true };
  } catch (error) {
    if (error instanceof CheckFailure) result = { ok: false, reason: error.message };
    else if (error instanceof CheckSkipped) result = { ok: true, skipped: error.message };
    else result = { ok: false, reason: `the check itself threw: ${describeThrown(error)}` };
  }
  // Cleanup is best effort for the provider (a check already judged its shutdown) but strict for the
  // initializer's own destroyProvider: a failure there is the test author's bug, and is reported.
  if (!run.shutDown) await callWithin(() => run.provider.shutdown(), timeouts.shutdownMs);
  for (const other of run.others) {
    // Shutting down twice is part of the contract (idempotent), so checks may have done it already.
    await callWithin(() => other.shutdown(), timeouts.shutdownMs);
    if (init.destroyProvider) {
      const destroy = init.destroyProvider;
      await callWithin(() => destroy(other), timeouts.hookMs);
    }
  }
  if (init.destroyProvider) {
    const destroy = init.destroyProvider;
    const destroyed = await callWithin(() => destroy(run.provider), timeouts.hookMs);
    if (result.ok && destroyed.kind !== "returned") {
      result = {
        ok: false,
        reason:
          destroyed.kind === "threw"
            ? `destroyProvider threw: ${describeThrown(destroyed.error)}`
            : `destroyProvider did not settle within ${timeouts.hookMs} ms`,
      };
    }
  }
  return result;
}
