import type {
  JsonObject,
  MemoryProvider,
  MemoryProviderCapabilities,
  ProviderInitContext,
} from "@engram/core";

type MaybePromise<T> = T | Promise<T>;

/** One write the provider made, as its probe reports it. */
export interface ProbedWrite {
  /** The session id the write was filed under (`undefined` when the provider keeps no session). */
  readonly sessionId: string | undefined;
  /** The stored text; the kit looks for its own unique markers in it. */
  readonly text: string;
}

/** What the kit may observe of a provider's writes, without seeing its internals. */
export interface ProviderSnapshot {
  /** Every write so far (turns mirrored, facts extracted, notes added), in any order. */
  readonly writes: readonly ProbedWrite[];
}

/** A tool call the kit replays; see {@link MemoryProviderTestInitializer.sampleToolCalls}. */
export interface SampleToolCall {
  readonly name: string;
  readonly args: JsonObject;
}

/** Time bounds of the checks, in ms. */
export interface ConformanceTimeouts {
  /** Bound of every hook other than `syncTurn` and `shutdown` (default 5000, like `MemoryManager`). */
  readonly hookMs?: number;
  /** Bound of one `syncTurn`, both its synchronous part and its settling (default 1000). */
  readonly syncTurnMs?: number;
  /** Bound of one `shutdown` (default 2000). */
  readonly shutdownMs?: number;
  /** Bound of one tool call (default 5000). */
  readonly toolMs?: number;
}

/**
 * A provider under test, written once by its author. The kit builds a fresh provider with
 * `createProvider()` for every check and never shares one between checks; each check uses its own,
 * never-reused session ids and marker words, so providers that share a backing store still cannot see
 * each other's data unless they recall across sessions on purpose.
 */
export interface MemoryProviderTestInitializer<P extends MemoryProvider = MemoryProvider> {
  /** Names the top-level `describe`. */
  readonly name: string;
  /**
   * A new, uninitialised provider. The kit calls `initialize` itself (or deliberately does not).
   *
   * The recall checks pass the context they will initialise the provider with, as a host's factory
   * receives it: build the provider for that `memoryScope`/`userId` the way your plugin's factory
   * does. Those providers must share one backing store (a later session has to recall what an earlier
   * one committed); the kit's unique session ids, scopes and markers keep checks apart. Called with no
   * argument, any fresh or shared backing will do.
   */
  readonly createProvider: (ctx?: ProviderInitContext) => MaybePromise<P>;
  /** Releases what `createProvider` built; called after the kit's own `shutdown`, even on failure. */
  readonly destroyProvider?: (provider: P) => MaybePromise<void>;
  /**
   * The capabilities the provider declares. Optional: left out, the kit reads `provider.capabilities`
   * from each provider it builds (declare them once, on the class). When given, the kit also checks
   * that `provider.capabilities` matches. Missing entries mean `false`.
   */
  readonly capabilities?: Readonly<Partial<MemoryProviderCapabilities>>;
  /**
   * Reports what the provider wrote, with the session id of each write: read it from the backing the
   * test gave the provider (an in-memory store, a database, a stand-in server's request log). Called
   * after awaited hooks and after `shutdown`, so it must work on a shut-down provider. Without a probe
   * the checks that need to see where data landed are skipped.
   */
  readonly probe?: (provider: P) => MaybePromise<ProviderSnapshot>;
  /** Fields of the `initialize` context other than `sessionId` (default: platform "cli", primary). */
  readonly initContext?: Partial<Omit<ProviderInitContext, "sessionId">>;
  /** Valid calls that must succeed with a JSON value through a `MemoryManager`. */
  readonly sampleToolCalls?: readonly SampleToolCall[];
  /** Invalid calls to reject, in addition to the ones the kit derives from the tool schemas. */
  readonly invalidToolCalls?: readonly SampleToolCall[];
  readonly timeouts?: ConformanceTimeouts;
  /** Suites or checks this provider knowingly does not pass; they are reported as skipped. */
  readonly skip?: readonly string[];
  readonly beforeAll?: () => MaybePromise<unknown>;
  readonly afterAll?: () => MaybePromise<unknown>;
  /** Timeout of `beforeAll`, in ms (Vitest's default when unset). */
  readonly beforeAllTimeout?: number;
}

/** Which suites or checks to run; names are suite names (`toolSchemas`) or check ids. */
export interface ConformanceFilters {
  /** Run only these (default: all). */
  readonly only?: readonly string[];
  /** Never run these. */
  readonly skip?: readonly string[];
}
