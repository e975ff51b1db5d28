import { randomUUID } from "node:crypto";
import type { ChatModel } from "@engram/agent";
import {
  type Clock,
  COMMIT_LEDGER,
  type CommitLedger,
  type DrainReport,
  InvalidArgumentError,
  type Logger,
  MemoryCommitCoordinator,
  type ModelOverride,
  noopLogger,
  type ResetPolicy,
  ROUTING_INDEX,
  type RoutingIndex,
  type SessionKeyLock,
  type SessionSource,
  TRANSCRIPT_STORE,
  type TranscriptMessage,
  type TranscriptSession,
  type TranscriptStore,
} from "@engram/core";
import type { DB } from "@engram/store";
import type { Kysely } from "kysely";
import { parseGatewayCommand } from "../commands/gateway-command.js";
import { migrateSessions } from "../db/migrations/index.js";
import type { SessionsDB } from "../db/schema/index.js";
import type { EngramHost } from "../host/engram-host.js";
import { PostgresRestartStateStore } from "../restart/postgres-restart-state-store.js";
import { type ReplySender, RestartRecovery, type RestoreReport } from "../restart/restart-recovery.js";
import { SessionRouter } from "../routing/session-router.js";
import {
  type AgentSessionMemory,
  AgentTurnRunner,
  type AgentTurnSession,
} from "../turns/agent-turn-runner.js";
import { KeyedSerialQueue } from "../turns/keyed-serial-queue.js";
import { type ExpirySweepReport, SessionExpiryWatcher } from "../turns/session-expiry-watcher.js";
import { type InboundMessage, SessionTurnHandler } from "../turns/session-turn-handler.js";
import type { TurnReply } from "../turns/turn-reply.js";
import type { CompletedTurn, TurnInput, TurnOutput, TurnRunner } from "../turns/turn-runner.js";
import { type CommitRecord, PostgresCommitRecords, RecordingCommitLedger } from "./commit-records.js";
import type { SessionRuntimeObserver } from "./runtime-observer.js";

/** Default longest wait for the commit of one session left at a boundary, in ms. */
const BOUNDARY_COMMIT_TIMEOUT_MS = 30_000;

/** How a messaging host routes platform messages to sessions (seed 004). */
export interface SessionRoutingOptions {
  /** Per-user sessions in shared chats (default true) and threads (default false). */
  readonly isolation?: { readonly groupSessionsPerUser: boolean; readonly threadSessionsPerUser: boolean };
  /** The reset policy of every session key; absent: the router's default. */
  readonly resetPolicy?: ResetPolicy;
  /** How long a resume-pending session is continued rather than reset (ms). */
  readonly resumeFreshnessMs?: number;
  /** Routing entries inactive this many days are pruned by the sweep (0: never). */
  readonly routeMaxAgeDays?: number;
  /** Restart recovery: how recent a key's activity must be to count as interrupted (ms). */
  readonly restartWindowMs?: number;
  /** Restart recovery: unclean starts in a row before an interrupted key is suspended. */
  readonly maxInterruptedRestarts?: number;
  /** What the model is told about where the session runs (seed 004 session context prompt). */
  readonly sessionContext?: (source: SessionSource) => string;
  /** Where a restart continuation's reply goes, once the host's adapters are up. */
  readonly replyTo?: (platform: string) => Promise<ReplySender | undefined>;
}

/** The agents of the default turn runner (`AgentTurnRunner` over the host's model and memory). */
export interface SessionAgentOptions {
  /** The memory of one session's agent; default: the host's providers in the session's memory scope. */
  readonly providers: (session: AgentTurnSession) => AgentSessionMemory;
  /** Default: the host's model. */
  readonly model?: ChatModel;
  readonly maxAgents?: number;
  readonly idleTtlMs?: number;
  /** Platform reported to providers (default "gateway"). */
  readonly platform?: string;
  /** The model of a `/model` override, or `undefined` to answer with the default one. */
  readonly modelFor?: (override: ModelOverride) => ChatModel | undefined;
}

export interface SessionRuntimeProps {
  /** The composed host: the store's ports, the model, the memory plugins. The caller closes it. */
  readonly host: EngramHost;
  /** The host's migrated database: the runtime's own tables (restart state, commit times) live there. */
  readonly db: Kysely<DB>;
  /** Default: the host's clock. Drives reset policies and the idle window. */
  readonly clock?: Clock;
  /**
   * This process's instance name: its clean-shutdown marker, and the prefix of its commit-ledger id
   * (`<ledgerPrefix><uuid>`). One process per name at a time.
   */
  readonly instance: string;
  /** Default `<instance>:`. An unclean start reaps the ledger registrations under it but its own. */
  readonly ledgerPrefix?: string;
  /**
   * Present: a messaging host whose sessions are routed by session key (`handleTurn`, commands,
   * expiry sweep, restart continuations). Absent: a host that addresses sessions by id (the web:
   * `runSessionTurn`, `enter`, the idle sweep).
   */
  readonly routing?: SessionRoutingOptions;
  /** Default: an {@link AgentTurnRunner} over `agents` (required then). */
  readonly runner?: TurnRunner;
  readonly agents?: SessionAgentOptions;
  /**
   * Default: a coordinator over the host's commit ledger, recording each commit's time. A coordinator
   * passed in should adopt orphaned work through {@link SessionRuntime.adoptAgent}.
   */
  readonly coordinator?: MemoryCommitCoordinator;
  /** Commit-ledger liveness of this process (default: the coordinator's). */
  readonly instanceTtlMs?: number;
  /**
   * Which stored sessions this host commits memory for when their agent is gone (see
   * `SessionTurnHandler`'s `adoptable`). Default: routed sessions (with a session key).
   */
  readonly adoptable?: (row: TranscriptSession) => SessionSource | undefined;
  /** Addressed sessions: a session with uncommitted memory idle this long is committed by the sweep (ms). */
  readonly idleCommitMs?: number;
  /** Sweep period once {@link SessionRuntime.startSweeping} runs (ms). */
  readonly sweepIntervalMs?: number;
  readonly maxTextBytes?: number;
  readonly duplicateWaitMs?: number;
  readonly recentTranscripts?: number;
  readonly modelSwitchable?: boolean;
  /** Serialises turns of one session key across processes sharing the database. */
  readonly keyLock?: SessionKeyLock;
  readonly observer?: SessionRuntimeObserver;
  readonly logger?: Logger;
}

/** A turn in a session the host addressed by id (the web): see {@link SessionRuntime.runSessionTurn}. */
export interface SessionTurn {
  readonly sessionId: string;
  /** Who speaks (its memory scope is the agent's). */
  readonly source: SessionSource;
  readonly text: string;
  /** The session's active transcript before this turn's user message (which the host saved already). */
  readonly history: readonly TranscriptMessage[];
  readonly signal?: AbortSignal;
  readonly onEvent?: TurnInput["onEvent"];
  /** Persists what the completed turn produced; only then is the turn recorded for memory. */
  readonly save: (completed: CompletedTurn) => Promise<void>;
}

/** What an idle sweep of addressed sessions committed. */
export interface IdleCommitReport {
  readonly committed: readonly string[];
  /** Idle, but the commit failed or another process owns the work: the next sweep retries. */
  readonly left: readonly string[];
}

/** What the memory panel of a session shows, from the durable ledger. */
export interface SessionMemoryStatus {
  /** Some completed turn of the session is not committed yet. */
  readonly dirty: boolean;
  readonly lastCommit: CommitRecord | undefined;
}

export interface SessionRuntimeCloseProps {
  /** Default 30000. */
  readonly drainDeadlineMs?: number;
  /** Stops taking work (the host's server); awaited with the running turns, within the deadline. */
  readonly stopIntake?: () => Promise<void>;
  /** Runs once the turns ended (or the deadline passed), before the memory drain (stop adapters). */
  readonly afterTurns?: () => Promise<void>;
}

/** How a close ended. */
export interface SessionRuntimeCloseReport {
  readonly turnsFinished: boolean;
  readonly drain: DrainReport;
  /** The clean-shutdown marker was recorded: the next start restores nothing. */
  readonly clean: boolean;
}

/**
 * The session runtime every Engram host shares: the turn pipeline, memory boundaries and commits
 * (each completed turn saved, then recorded; memory committed once, when its session is left), the
 * sweep, restart recovery and the graceful stop. The platform parts (HTTP, adapters, SSE) stay in
 * the host.
 *
 * Two kinds of host:
 * - routed (`routing` given, the gateway): platform messages go to the session their key routes to
 *   (`handleTurn`, `runCommand`); a key moving to another session commits the one it left.
 * - addressed (the web): the host names the session (`runSessionTurn`); entering a session commits
 *   every other session of the host with uncommitted work first (`enter`), and the sweep commits
 *   sessions idle past `idleCommitMs`.
 */
export class SessionRuntime {
  readonly router: SessionRouter;
  readonly handler: SessionTurnHandler;
  readonly coordinator: MemoryCommitCoordinator;
  readonly recovery: RestartRecovery;
  readonly runner: TurnRunner;
  readonly routingIndex: RoutingIndex;
  readonly transcripts: TranscriptStore;
  /** The expiry sweep of a routed host; `undefined` for an addressed one. */
  readonly expiryWatcher: SessionExpiryWatcher | undefined;
  readonly #props: SessionRuntimeProps;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #agents: AgentTurnRunner | undefined;
  readonly #records: PostgresCommitRecords;
  readonly #ledger: CommitLedger;
  /** Turns of addressed sessions, one at a time per session. */
  readonly #lanes = new KeyedSerialQueue();
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<ExpirySweepReport | IdleCommitReport> | undefined;
  #closing: Promise<SessionRuntimeCloseReport> | undefined;

  constructor(props: SessionRuntimeProps) {
    this.#props = props;
    const { host } = props;
    this.#clock = props.clock ?? host.clock;
    this.#log = props.logger ?? noopLogger;
    const clock = this.#clock;
    this.routingIndex = host.container.resolve<RoutingIndex>(ROUTING_INDEX);
    this.transcripts = host.container.resolve<TranscriptStore>(TRANSCRIPT_STORE);
    const routing = props.routing;
    this.router = new SessionRouter({
      routingIndex: this.routingIndex,
      transcripts: this.transcripts,
      clock,
      ...(routing?.resumeFreshnessMs === undefined ? {} : { resumeFreshnessMs: routing.resumeFreshnessMs }),
      ...(routing?.isolation ? { isolation: routing.isolation } : {}),
      ...(routing?.resetPolicy ? { resetPolicies: { default: routing.resetPolicy } } : {}),
    });
    this.#records = new PostgresCommitRecords(props.db as unknown as Kysely<SessionsDB>);
    const ledgerPrefix = props.ledgerPrefix ?? `${props.instance}:`;
    // Each completed commit's time is recorded next to the ledger (the memory panel's "last commit").
    this.#ledger = new RecordingCommitLedger(
      host.container.resolve<CommitLedger>(COMMIT_LEDGER),
      this.#records,
      {
        clock,
        logger: this.#log,
      },
    );
    // Leases and instance liveness measure real time on every process sharing the ledger, so they read
    // the system clock: the injected clock drives reset policies and jumps in tests.
    this.coordinator =
      props.coordinator ??
      new MemoryCommitCoordinator({
        ledger: this.#ledger,
        instanceId: `${ledgerPrefix}${randomUUID()}`,
        ...(props.instanceTtlMs === undefined ? {} : { instanceTtlMs: props.instanceTtlMs }),
        logger: this.#log,
        // Work whose agent died with its process is committed by one built from the stored transcript.
        adoptAgent: (sessionId: string) => this.handler.adoptAgent(sessionId),
      });
    if (!props.runner && !props.agents) {
      throw new InvalidArgumentError("agents", "a session runtime needs a runner or agent options");
    }
    this.#agents = props.runner
      ? undefined
      : new AgentTurnRunner({
          coordinator: this.coordinator,
          model: props.agents?.model ?? host.model,
          clock,
          providers: props.agents?.providers ?? (() => []),
          ...(props.agents?.maxAgents === undefined ? {} : { maxAgents: props.agents.maxAgents }),
          ...(props.agents?.idleTtlMs === undefined ? {} : { idleTtlMs: props.agents.idleTtlMs }),
          ...(props.agents?.platform ? { platform: props.agents.platform } : {}),
          ...(props.agents?.modelFor ? { modelFor: props.agents.modelFor } : {}),
        });
    this.runner = props.runner ?? (this.#agents as AgentTurnRunner);
    this.handler = new SessionTurnHandler({
      router: this.router,
      routingIndex: this.routingIndex,
      transcripts: this.transcripts,
      runner: this.runner,
      coordinator: this.coordinator,
      ...(props.observer ? { observer: props.observer } : {}),
      ...(props.maxTextBytes === undefined ? {} : { maxTextBytes: props.maxTextBytes }),
      ...(props.duplicateWaitMs === undefined ? {} : { duplicateWaitMs: props.duplicateWaitMs }),
      ...(props.recentTranscripts === undefined ? {} : { recentTranscripts: props.recentTranscripts }),
      modelSwitchable: props.modelSwitchable ?? false,
      ...(routing?.sessionContext ? { sessionContext: routing.sessionContext } : {}),
      ...(props.keyLock ? { keyLock: props.keyLock } : {}),
      ...(props.adoptable ? { adoptable: props.adoptable } : {}),
      boundaryCommitTimeoutMs: BOUNDARY_COMMIT_TIMEOUT_MS,
      logger: this.#log,
    });
    this.recovery = new RestartRecovery({
      instance: props.instance,
      state: new PostgresRestartStateStore(props.db as unknown as Kysely<SessionsDB>, { clock }),
      routingIndex: this.routingIndex,
      router: this.router,
      handler: this.handler,
      clock,
      routed: routing !== undefined,
      ...(routing?.restartWindowMs === undefined ? {} : { restartWindowMs: routing.restartWindowMs }),
      ...(routing?.resumeFreshnessMs === undefined ? {} : { resumeFreshnessMs: routing.resumeFreshnessMs }),
      ...(routing?.maxInterruptedRestarts === undefined
        ? {}
        : { maxInterruptedRestarts: routing.maxInterruptedRestarts }),
      ...(routing?.replyTo ? { adapterFor: routing.replyTo } : {}),
      ...(props.observer ? { observer: props.observer } : {}),
      logger: this.#log,
      reapPreviousRun: () => this.coordinator.reapInstances(ledgerPrefix),
    });
    this.expiryWatcher = routing
      ? new SessionExpiryWatcher({
          routingIndex: this.routingIndex,
          router: this.router,
          handler: this.handler,
          ...(this.#agents ? { agents: this.#agents } : {}),
          clock,
          ...(props.observer ? { observer: props.observer } : {}),
          ...(routing.routeMaxAgeDays === undefined ? {} : { routeMaxAgeDays: routing.routeMaxAgeDays }),
        })
      : undefined;
  }

  /**
   * One inbound platform message of a routed host (see `SessionTurnHandler.handle`): routed, stored,
   * answered, recorded; a slash command runs in the key's turn slot.
   */
  handleTurn(message: InboundMessage): Promise<TurnReply> {
    return this.handler.handle(message);
  }

  /** Runs a session command (`/new`, `/resume 2`, ...) for `source`, in its key's turn slot. */
  runCommand(source: unknown, command: string): Promise<TurnReply> {
    if (!parseGatewayCommand(command)) {
      return Promise.reject(new InvalidArgumentError("command", "must be a slash command such as /new"));
    }
    return this.handler.handle({ source, text: command });
  }

  /** Commits the memory of a session left for good (a failed commit is retried at later boundaries). */
  leave(sessionId: string): Promise<boolean> {
    return this.handler.leaveSession(sessionId);
  }

  /**
   * An addressed host's owner entered `sessionId` (opened it, created it, or speaks in it): every
   * other session of this host with uncommitted memory is committed first, so what was said there is
   * recalled here. Sessions with a turn running are left to their own boundary or the sweep; work
   * another live process owns is that process's. Resolves the sessions it committed.
   */
  async enter(sessionId: string): Promise<string[]> {
    const committed: string[] = [];
    for (const other of await this.#dirtySessions()) {
      if (other === sessionId || this.#lanes.keys().includes(other)) continue;
      if (await this.handler.leaveSession(other)) committed.push(other);
    }
    return committed;
  }

  /**
   * A turn of an addressed session (the web): one at a time per session. Enters the session first
   * (see {@link enter}), so the turn's recall sees what every other session committed; the completed
   * turn is saved by the host (`save`), then recorded with the coordinator while its agent is held.
   * Throws what the runner throws (`TurnFailedError`); a stopped turn resolves `completed: false`.
   */
  runSessionTurn(turn: SessionTurn): Promise<TurnOutput> {
    return this.#lanes.run(turn.sessionId, async () => {
      await this.enter(turn.sessionId);
      return this.runner.runTurn({
        sessionId: turn.sessionId,
        sessionKey: turn.sessionId,
        source: turn.source,
        text: turn.text,
        history: turn.history,
        ...(turn.signal ? { signal: turn.signal } : {}),
        ...(turn.onEvent ? { onEvent: turn.onEvent } : {}),
        onCompleted: async (completed) => {
          await turn.save(completed);
          await this.coordinator.markTurnCompleted(turn.sessionId, { agent: completed.agent });
        },
      });
    });
  }

  /** Whether a turn of this addressed session is queued or running in this process. */
  isBusy(sessionId: string): boolean {
    return this.#lanes.keys().includes(sessionId);
  }

  /** The memory state of a session from the durable ledger and commit record. */
  async memoryStatus(sessionId: string): Promise<SessionMemoryStatus> {
    const [dirty, lastCommit] = await Promise.all([
      Promise.resolve(this.coordinator.hasUncommittedWork(sessionId)),
      this.#records.lastCommitOf(sessionId),
    ]);
    return { dirty, lastCommit };
  }

  /**
   * One sweep. Routed: the expiry sweep (expired sessions, orphaned work, idle agents, old routes).
   * Addressed: commits every session of this host idle past `idleCommitMs` whose memory is
   * uncommitted (orphaned work of a dead process included), once: a committed session is clean.
   * Concurrent calls share the running pass.
   */
  sweep(): Promise<ExpirySweepReport | IdleCommitReport> {
    this.#sweeping ??= (this.expiryWatcher ? this.expiryWatcher.sweep() : this.#sweepIdle()).finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Sweeps every `sweepIntervalMs` (or `intervalMs`) until {@link close}; the timer never holds the process. */
  startSweeping(intervalMs = this.#props.sweepIntervalMs ?? 60_000): void {
    if (this.#sweepTimer || intervalMs <= 0) return;
    this.#sweepTimer = setInterval(() => {
      void this.sweep().catch((error: unknown) => this.#log.warn({ err: error }, "session sweep failed"));
    }, intervalMs);
    this.#sweepTimer.unref();
  }

  /**
   * Migrates the runtime's tables and restores after the previous run of this instance (see
   * {@link RestartRecovery}): routed hosts get continuations of interrupted sessions queued; every host
   * reaps the commit-ledger registrations a killed run left, so its work is adopted at once.
   */
  async restore(): Promise<RestoreReport> {
    await migrateSessions(this.#props.db);
    return this.recovery.restore();
  }

  /** Turns queued or running, routed and addressed. */
  get queueDepth(): number {
    return this.handler.queueDepth + this.#lanes.depth;
  }

  /**
   * Graceful stop: the sweep stops, keys with a turn in progress are marked resume-pending, intake
   * stops and running turns finish (within the deadline), then every session's uncommitted memory is
   * committed. The clean-shutdown marker is recorded only when all of that finished in time.
   */
  close(props: SessionRuntimeCloseProps = {}): Promise<SessionRuntimeCloseReport> {
    this.#closing ??= this.#close(props);
    return this.#closing;
  }

  async #close(props: SessionRuntimeCloseProps): Promise<SessionRuntimeCloseReport> {
    // Wall time, not `clock`: the deadline bounds this process's stop, whatever the policy clock says.
    const deadline = Date.now() + (props.drainDeadlineMs ?? 30_000);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    await this.expiryWatcher?.stop();
    await this.#sweeping?.catch(() => undefined);
    for (const key of this.handler.busyKeys()) {
      await this.routingIndex.markResumePending(key, RUNTIME_SHUTDOWN_RESUME_REASON);
    }
    const turnsFinished = await settlesBy(
      Promise.all([props.stopIntake?.(), this.#untilIdle()]).then(() => undefined),
      deadline,
    );
    await props.afterTurns?.();
    // Everything this process owns, and what crashed processes left that it can adopt.
    const drain = await this.coordinator.drainAll({ deadlineMs: Math.max(0, deadline - Date.now()) });
    if (drain.remaining.length > 0) {
      this.#log.warn(
        {
          remaining: drain.remaining.length,
          sessions: drain.sessions
            .filter((session) => session.status !== "drained")
            .slice(0, 20)
            // pino serialises only a top-level `err`: spell the nested errors out.
            .map(({ sessionId, status, error }) => ({
              sessionId,
              status,
              ...(error ? { code: error.code, cause: error.message } : {}),
            })),
        },
        "memory drain left sessions uncommitted: another live process owns them, or their commits failed",
      );
    }
    let clean = false;
    if (turnsFinished && !drain.deadlineExceeded) {
      clean = await this.recovery.recordCleanShutdown().catch((error: unknown) => {
        this.#log.error({ err: error }, "clean-shutdown marker not recorded: the next start restores");
        return false;
      });
    } else {
      this.#log.warn(
        { turnsFinished, memoryDrainCutShort: drain.deadlineExceeded },
        "drain missed its deadline: no clean-shutdown marker, the next start restores",
      );
    }
    await this.coordinator.close();
    await this.#agents?.close();
    return { turnsFinished, drain, clean };
  }

  async #untilIdle(): Promise<void> {
    while (this.queueDepth > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Sessions of this host with uncommitted memory this process could commit. */
  async #dirtySessions(): Promise<string[]> {
    const out: string[] = [];
    const dirty = await this.#ledger.dirtySessions({ committableBy: this.coordinator.instanceId });
    for (const sessionId of dirty) {
      const row = await this.transcripts.getSession(sessionId);
      if (row && this.handler.serves(row)) out.push(sessionId);
    }
    return out;
  }

  async #sweepIdle(): Promise<IdleCommitReport> {
    const windowMs = this.#props.idleCommitMs ?? DEFAULT_IDLE_COMMIT_MS;
    const cutoff = this.#clock.now() - windowMs;
    const committed: string[] = [];
    const left: string[] = [];
    for (const sessionId of await this.#dirtySessions()) {
      if (this.isBusy(sessionId)) continue;
      const row = await this.transcripts.getSession(sessionId);
      if (!row || row.updatedAt > cutoff) continue;
      if (await this.handler.leaveSession(sessionId)) committed.push(sessionId);
      else left.push(sessionId);
    }
    return { committed, left };
  }
}

/** Default idle window of addressed sessions before the sweep commits them (30 minutes). */
export const DEFAULT_IDLE_COMMIT_MS = 30 * 60 * 1000;

/** Resume reason written on keys that had a turn in progress when the runtime stopped. */
export const RUNTIME_SHUTDOWN_RESUME_REASON = "gateway_shutdown";

/** Whether `work` settled before the wall-clock `deadline` (it keeps running either way). */
async function settlesBy(work: Promise<void>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
