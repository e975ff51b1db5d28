import { createChatModel, isModelConfigured } from "@engram/agent";
import {
  buildSessionContextPrompt,
  type Clock,
  InvalidArgumentError,
  type Logger,
  type MemoryCommitCoordinator,
  memoryScopeFor,
  type RoutingIndex,
  type SessionKeyLock,
  type TranscriptStore,
} from "@engram/core";
import {
  createDefaultHost,
  type EngramHost,
  type PlatformAdapter,
  type RestartRecovery,
  type RestoreReport,
  type SessionExpiryWatcher,
  type SessionRouter,
  SessionRuntime,
  type SessionTurnHandler,
  type TurnRunner,
} from "@engram/sessions";
import type { DB } from "@engram/store";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { Kysely } from "kysely";
import type { GatewayConfig } from "../config/gateway-config.js";
import { buildGatewayServer } from "../server/build-gateway-server.js";
import { GatewayMetrics } from "../server/gateway-metrics.js";

/** Resume reason written on keys that had a turn in progress when the gateway stopped. */
export { RUNTIME_SHUTDOWN_RESUME_REASON as GATEWAY_SHUTDOWN_RESUME_REASON } from "@engram/sessions";

export interface CreateGatewayProps {
  readonly config: GatewayConfig;
  /** A migrated `@engram/store` database (the gateway's own tables are migrated by `listen`). */
  readonly db: Kysely<DB>;
  /**
   * The composed host over `db` (`composeHost`: the configured memory plugins, the model, the store's
   * ports); the caller closes it after the gateway. Default: `createDefaultHost` on `db` (Holographic
   * memory, the model of `ENGRAM_MODEL*`), owned and closed by the gateway.
   */
  readonly host?: EngramHost;
  /** Default: the host's `CLOCK`. */
  readonly clock?: Clock;
  /**
   * Default: an {@link AgentTurnRunner} (`@engram/agent`) on the host's model, whose agents get the
   * host's memory providers in the memory scope of their session (`memoryScopeFor`: a person's
   * sessions share one, a shared room has its own).
   */
  readonly runner?: TurnRunner;
  readonly logger?: FastifyServerOptions["logger"];
  /**
   * Default: a coordinator over a {@link PostgresCommitLedger} on `db` (pass one to build a runner that
   * shares it), so generations, the in-flight guard and segment ownership hold across processes and
   * restarts. Its ledger id is `gateway:<instance>:<uuid>` and it adopts orphaned work through the
   * handler (`SessionTurnHandler.adoptAgent`); a coordinator passed in should do the same.
   */
  readonly coordinator?: MemoryCommitCoordinator;
  /**
   * Platforms in addition to the host's (`host.adapters`: the adapter plugins `engram.config.json`
   * enables, Telegram when `ENGRAM_TELEGRAM_BOT_TOKEN` is set): tests and embedders with an adapter
   * of their own.
   */
  readonly extraAdapters?: readonly PlatformAdapter[];
  /**
   * Serialises turns of one session key across every gateway process on the database
   * (`Database.sessionKeyLock()`; the caller closes it). Default: none, one process only.
   */
  readonly keyLock?: SessionKeyLock;
}

export interface GatewayListenProps {
  readonly host: string;
  readonly port: number;
}

/** What `listen` did: where it listens and what the restore after the previous run found. */
export interface GatewayListening {
  readonly address: string;
  readonly restore: RestoreReport;
}

export interface Gateway {
  readonly server: FastifyInstance;
  /** The session runtime the gateway composed (turns, commands, boundaries, sweep, restart). */
  readonly runtime: SessionRuntime;
  readonly router: SessionRouter;
  readonly handler: SessionTurnHandler;
  readonly coordinator: MemoryCommitCoordinator;
  readonly metrics: GatewayMetrics;
  readonly expiryWatcher: SessionExpiryWatcher;
  readonly routingIndex: RoutingIndex;
  readonly transcripts: TranscriptStore;
  /** The host the gateway was composed on (its own default one when none was given). */
  readonly host: EngramHost;
  /** The platform adapters, their routes on `server`; `send` delivers a reply no request waits for. */
  readonly adapters: readonly PlatformAdapter[];
  /** The adapter of a `SessionSource.platform`, if one runs. */
  adapterFor(platform: string): PlatformAdapter | undefined;
  readonly recovery: RestartRecovery;
  /**
   * Starts serving: restores after the previous run (see {@link RestartRecovery}: continuations of
   * interrupted sessions are queued before the first request is taken), listens, then starts the
   * adapters in order (Telegram asks `getMe`); continuation replies are delivered once they are up.
   * A failing adapter start rejects (the server keeps listening; `close()` stops it).
   */
  listen(props: GatewayListenProps): Promise<GatewayListening>;
  /**
   * Graceful stop: keys with a turn in progress are marked resume-pending, the server stops taking
   * requests and waits for running turns (continuations included), the adapters stop (each waits for
   * the turns its webhooks accepted), then every session's uncommitted memory is committed. The
   * clean-shutdown marker is recorded only when all of that finished within the deadline (default
   * `config.drainDeadlineMs`); otherwise the next start restores.
   */
  close(props?: { readonly drainDeadlineMs?: number }): Promise<void>;
}

/**
 * The composition root: the host's container (ports on the database, clock, model, memory plugins),
 * then router, coordinator, turn pipeline and HTTP server over what it resolves.
 */
export function createGateway(props: CreateGatewayProps): Gateway {
  const host =
    props.host ?? createDefaultHost({ db: props.db, ...(props.clock ? { clock: props.clock } : {}) });
  const clock = props.clock ?? host.clock;
  const metrics = new GatewayMetrics();
  const isolation = {
    groupSessionsPerUser: props.config.groupSessionsPerUser,
    threadSessionsPerUser: props.config.threadSessionsPerUser,
  };
  const modelConfigured = isModelConfigured(process.env);
  // Continuation replies wait for this gate: opened once the adapters started (or the gateway stops).
  let openAdapterGate!: () => void;
  const adaptersUp = new Promise<void>((resolve) => {
    openAdapterGate = resolve;
  });
  const startedAdapters = new Set<PlatformAdapter>();
  const runtime = new SessionRuntime({
    host,
    db: props.db,
    clock,
    // One process per instance name at a time: a start after an unclean stop reaps every ledger
    // registration under this prefix but its own (see RestartRecovery's `reapPreviousRun`).
    instance: props.config.instance,
    ledgerPrefix: `gateway:${props.config.instance}:`,
    instanceTtlMs: props.config.instanceTtlMs,
    ...(props.coordinator ? { coordinator: props.coordinator } : {}),
    routing: {
      isolation,
      ...(props.config.resetPolicy ? { resetPolicy: props.config.resetPolicy } : {}),
      resumeFreshnessMs: props.config.resumeFreshnessMs,
      routeMaxAgeDays: props.config.routeMaxAgeDays,
      restartWindowMs: props.config.restartWindowMs,
      maxInterruptedRestarts: props.config.maxInterruptedRestarts,
      sessionContext: (source) =>
        buildSessionContextPrompt(
          {
            source,
            connectedPlatforms: [...new Set([source.platform, ...adapters.map((a) => a.platform)])],
            homeChannels: [],
          },
          { redactPii: props.config.redactPii },
        ),
      replyTo: async (platform) => {
        await adaptersUp;
        return adapters.find((adapter) => adapter.platform === platform && startedAdapters.has(adapter));
      },
    },
    ...(props.runner
      ? { runner: props.runner }
      : {
          agents: {
            maxAgents: props.config.maxAgents,
            idleTtlMs: props.config.agentIdleTtlMs,
            // Only with a model endpoint configured: the offline model has no other models to switch to.
            modelFor: (override) =>
              override.model && modelConfigured ? createChatModel({ model: override.model }) : undefined,
            // One child container per session; its providers see the memory scope of the session's source.
            providers: ({ sessionId, source }) =>
              host.openSession({
                sessionId,
                platform: source.platform,
                ...(source.userId ? { userId: source.userId } : {}),
                ...(source.profile ? { profile: source.profile } : {}),
                memoryScope: memoryScopeFor(source, isolation),
                agentContext: "primary",
                extra: {
                  chatId: source.chatId,
                  chatType: source.chatType,
                  ...(source.threadId ? { threadId: source.threadId } : {}),
                },
              }),
          },
        }),
    maxTextBytes: props.config.maxTextBytes,
    duplicateWaitMs: props.config.duplicateWaitMs,
    // As many held transcripts as live agents: the sessions likely to speak next.
    recentTranscripts: props.config.maxAgents,
    modelSwitchable: !props.runner && modelConfigured,
    ...(props.keyLock ? { keyLock: props.keyLock } : {}),
    observer: metrics.observer(),
    // The runtime is built before the server that owns the process's pino logger: reached lazily.
    logger: lazyLogger(() => server.log),
  });
  const { router, handler, coordinator, routingIndex, transcripts, recovery } = runtime;
  router.onOutcome = (decision) => metrics.routingDecisions.inc({ decision });
  const server = buildGatewayServer({
    handler,
    metrics,
    token: props.config.token,
    logger: props.logger ?? false,
    checkHealth: async () => {
      await routingIndex.count();
    },
    openaiCompatible: {
      currentTranscript: async (source) => {
        const entry = await routingIndex.get(router.sessionKeyFor(source));
        return { messages: entry ? await transcripts.getMessages(entry.sessionId) : [] };
      },
    },
  });
  const adapters = [...host.adapters, ...(props.extraAdapters ?? [])];
  const byPlatform = new Map<string, PlatformAdapter>();
  for (const adapter of adapters) {
    if (byPlatform.has(adapter.platform)) {
      throw new InvalidArgumentError("adapters", `two adapters for platform ${adapter.platform}`);
    }
    byPlatform.set(adapter.platform, adapter);
    adapter.register(server, (message) => runtime.handleTurn(message));
  }
  const listen = async (listenProps: GatewayListenProps): Promise<GatewayListening> => {
    const restore = await runtime.restore();
    const address = await server.listen({ host: listenProps.host, port: listenProps.port });
    try {
      for (const adapter of adapters) {
        await adapter.start?.();
        startedAdapters.add(adapter);
      }
    } finally {
      // Continuations deliver through the adapters that did start; a failed start fails the listen.
      openAdapterGate();
    }
    return { address, restore };
  };
  if (props.config.expirySweepIntervalMs > 0) runtime.startSweeping(props.config.expirySweepIntervalMs);
  let closing: Promise<void> | undefined;
  const close = (closeProps: { readonly drainDeadlineMs?: number } = {}) => {
    closing ??= (async () => {
      await runtime.close({
        drainDeadlineMs: closeProps.drainDeadlineMs ?? props.config.drainDeadlineMs,
        stopIntake: () => {
          // Queued continuations must not wait for adapters that will never start.
          openAdapterGate();
          return server.close();
        },
        afterTurns: async () => {
          for (const adapter of startedAdapters) {
            await adapter.stop?.().catch((error: unknown) => {
              server.log.warn({ platform: adapter.platform, err: error }, "adapter did not stop cleanly");
            });
          }
        },
      });
      // A host given by the caller is the caller's to close (it may serve other apps too).
      if (!props.host) await host.close();
    })();
    return closing;
  };
  return {
    server,
    runtime,
    router,
    handler,
    coordinator,
    metrics,
    expiryWatcher: runtime.expiryWatcher as SessionExpiryWatcher,
    routingIndex,
    transcripts,
    host,
    adapters,
    adapterFor: (platform) => byPlatform.get(platform),
    recovery,
    listen,
    close,
  };
}

/** A {@link Logger} writing to a pino logger that exists only once `get` can answer. */
function lazyLogger(get: () => Logger): Logger {
  return {
    debug: (fields, message) => get().debug(fields, message),
    info: (fields, message) => get().info(fields, message),
    warn: (fields, message) => get().warn(fields, message),
    error: (fields, message) => get().error(fields, message),
  };
}
