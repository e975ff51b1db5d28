import { randomUUID } from "node:crypto";
import { createChatModel, isModelConfigured } from "@engram/agent";
import {
  buildSessionContextPrompt,
  type Clock,
  COMMIT_LEDGER,
  type CommitLedger,
  InvalidArgumentError,
  type Logger,
  MemoryCommitCoordinator,
  memoryScopeFor,
  ROUTING_INDEX,
  type RoutingIndex,
  type SessionKeyLock,
  TRANSCRIPT_STORE,
  type TranscriptStore,
} from "@engram/core";
import {
  AgentTurnRunner,
  createDefaultHost,
  type EngramHost,
  GatewayTurnHandler,
  migrateSessions,
  PostgresRestartStateStore,
  RestartRecovery,
  type RestoreReport,
  SessionExpiryWatcher,
  SessionRouter,
  type SessionsDB,
  type TurnRunner,
} from "@engram/sessions";
import type { DB } from "@engram/store";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { Kysely } from "kysely";
import type { PlatformAdapter } from "../adapters/platform-adapter.js";
import { TelegramAdapter } from "../adapters/telegram/telegram-adapter.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import { buildGatewayServer } from "../server/build-gateway-server.js";
import { GatewayMetrics } from "../server/gateway-metrics.js";

/** Resume reason written on keys that had a turn in progress when the gateway stopped. */
export const GATEWAY_SHUTDOWN_RESUME_REASON = "gateway_shutdown";

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
   * handler (`GatewayTurnHandler.adoptAgent`); a coordinator passed in should do the same.
   */
  readonly coordinator?: MemoryCommitCoordinator;
  /**
   * Platforms in addition to the ones the configuration enables (Telegram when its bot token is set):
   * tests and embedders with an adapter of their own.
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
  readonly router: SessionRouter;
  readonly handler: GatewayTurnHandler;
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
  const routingIndex = host.container.resolve<RoutingIndex>(ROUTING_INDEX);
  const transcripts = host.container.resolve<TranscriptStore>(TRANSCRIPT_STORE);
  const metrics = new GatewayMetrics();
  const observer = metrics.observer();
  const isolation = {
    groupSessionsPerUser: props.config.groupSessionsPerUser,
    threadSessionsPerUser: props.config.threadSessionsPerUser,
  };
  const router = new SessionRouter({
    routingIndex,
    transcripts,
    clock,
    resumeFreshnessMs: props.config.resumeFreshnessMs,
    isolation,
    ...(props.config.resetPolicy ? { resetPolicies: { default: props.config.resetPolicy } } : {}),
  });
  router.onOutcome = (decision) => metrics.routingDecisions.inc({ decision });
  // The coordinator is built before the server that owns the process's pino logger (and before the
  // handler that builds adopting agents): both are reached lazily, once they exist.
  const commitLog = lazyLogger(() => server.log);
  // One process per instance name at a time: a start after an unclean stop reaps every ledger
  // registration under this prefix but its own (see RestartRecovery's `reapPreviousRun`).
  const commitPrefix = `gateway:${props.config.instance}:`;
  // Leases and instance liveness measure real time on every process sharing the ledger, so they read
  // the system clock: the injected clock drives reset policies and jumps in tests.
  const coordinator: MemoryCommitCoordinator =
    props.coordinator ??
    new MemoryCommitCoordinator({
      ledger: host.container.resolve<CommitLedger>(COMMIT_LEDGER),
      instanceId: `${commitPrefix}${randomUUID()}`,
      instanceTtlMs: props.config.instanceTtlMs,
      logger: commitLog,
      // Work whose agent died with its process is committed by one built from the stored transcript.
      adoptAgent: (sessionId: string) => handler.adoptAgent(sessionId),
    });
  const modelConfigured = isModelConfigured(process.env);
  const agentRunner = props.runner
    ? undefined
    : new AgentTurnRunner({
        coordinator,
        model: host.model,
        maxAgents: props.config.maxAgents,
        idleTtlMs: props.config.agentIdleTtlMs,
        clock,
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
      });
  const runner = props.runner ?? (agentRunner as AgentTurnRunner);
  const handler = new GatewayTurnHandler({
    router,
    routingIndex,
    transcripts,
    runner,
    coordinator,
    observer,
    maxTextBytes: props.config.maxTextBytes,
    duplicateWaitMs: props.config.duplicateWaitMs,
    // As many held transcripts as live agents: the sessions likely to speak next.
    recentTranscripts: props.config.maxAgents,
    modelSwitchable: agentRunner !== undefined && modelConfigured,
    sessionContext: (source) =>
      buildSessionContextPrompt(
        {
          source,
          connectedPlatforms: [...new Set([source.platform, ...adapters.map((a) => a.platform)])],
          homeChannels: [],
        },
        { redactPii: props.config.redactPii },
      ),
    ...(props.keyLock ? { keyLock: props.keyLock } : {}),
    logger: commitLog,
  });
  const server = buildGatewayServer({
    handler,
    metrics,
    token: props.config.token,
    logger: props.logger ?? false,
    checkHealth: async () => {
      await routingIndex.count();
    },
  });
  const adapters = [...adaptersFromConfig(props.config), ...(props.extraAdapters ?? [])];
  const byPlatform = new Map<string, PlatformAdapter>();
  for (const adapter of adapters) {
    if (byPlatform.has(adapter.platform)) {
      throw new InvalidArgumentError("adapters", `two adapters for platform ${adapter.platform}`);
    }
    byPlatform.set(adapter.platform, adapter);
    adapter.register(server, (message) => handler.handle(message));
  }
  // Continuation replies wait for this gate: opened once the adapters started (or the gateway stops).
  let openAdapterGate!: () => void;
  const adaptersUp = new Promise<void>((resolve) => {
    openAdapterGate = resolve;
  });
  const startedAdapters = new Set<PlatformAdapter>();
  const recovery = new RestartRecovery({
    instance: props.config.instance,
    state: new PostgresRestartStateStore(props.db as unknown as Kysely<SessionsDB>, { clock }),
    routingIndex,
    router,
    handler,
    clock,
    restartWindowMs: props.config.restartWindowMs,
    resumeFreshnessMs: props.config.resumeFreshnessMs,
    maxInterruptedRestarts: props.config.maxInterruptedRestarts,
    adapterFor: async (platform) => {
      await adaptersUp;
      return adapters.find((adapter) => adapter.platform === platform && startedAdapters.has(adapter));
    },
    observer,
    logger: server.log,
    reapPreviousRun: () => coordinator.reapInstances(commitPrefix),
  });
  const listen = async (listenProps: GatewayListenProps): Promise<GatewayListening> => {
    await migrateSessions(props.db);
    const restore = await recovery.restore();
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
  const expiryWatcher = new SessionExpiryWatcher({
    routingIndex,
    router,
    handler,
    ...(agentRunner ? { agents: agentRunner } : {}),
    clock,
    observer,
    routeMaxAgeDays: props.config.routeMaxAgeDays,
  });
  if (props.config.expirySweepIntervalMs > 0) expiryWatcher.start(props.config.expirySweepIntervalMs);
  let closing: Promise<void> | undefined;
  const close = (closeProps: { readonly drainDeadlineMs?: number } = {}) => {
    closing ??= (async () => {
      // Wall time, not `clock`: the deadline bounds this process's stop, whatever the policy clock says.
      const deadline = Date.now() + (closeProps.drainDeadlineMs ?? props.config.drainDeadlineMs);
      await expiryWatcher.stop();
      for (const key of handler.busyKeys()) {
        await routingIndex.markResumePending(key, GATEWAY_SHUTDOWN_RESUME_REASON);
      }
      // Queued continuations must not wait for adapters that will never start.
      openAdapterGate();
      const turnsFinished = await settlesBy(
        Promise.all([server.close(), untilIdle(handler)]).then(() => undefined),
        deadline,
      );
      for (const adapter of startedAdapters) {
        await adapter.stop?.().catch((error: unknown) => {
          server.log.warn({ platform: adapter.platform, err: error }, "adapter did not stop cleanly");
        });
      }
      // Everything this process owns, and what crashed processes left that it can adopt.
      const drain = await coordinator.drainAll({ deadlineMs: Math.max(0, deadline - Date.now()) });
      if (drain.remaining.length > 0) {
        server.log.warn(
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
      if (turnsFinished && !drain.deadlineExceeded) {
        await recovery.recordCleanShutdown().catch((error: unknown) => {
          server.log.error({ err: error }, "clean-shutdown marker not recorded: the next start restores");
        });
      } else {
        server.log.warn(
          { turnsFinished, memoryDrainCutShort: drain.deadlineExceeded },
          "drain missed its deadline: no clean-shutdown marker, the next start restores",
        );
      }
      await coordinator.close();
      await agentRunner?.close();
      // A host given by the caller is the caller's to close (it may serve other apps too).
      if (!props.host) await host.close();
    })();
    return closing;
  };
  return {
    server,
    router,
    handler,
    coordinator,
    metrics,
    expiryWatcher,
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

/** The adapters the configuration enables. The composition root is the only place that builds them. */
function adaptersFromConfig(config: GatewayConfig): PlatformAdapter[] {
  const adapters: PlatformAdapter[] = [];
  if (config.telegramBotToken && config.telegramWebhookSecret) {
    adapters.push(
      new TelegramAdapter({
        botToken: config.telegramBotToken,
        webhookSecret: config.telegramWebhookSecret,
        apiBaseUrl: config.telegramApiBaseUrl,
      }),
    );
  }
  return adapters;
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

/** Resolves once no turn is queued or running (HTTP turns and continuations alike). */
async function untilIdle(handler: GatewayTurnHandler): Promise<void> {
  while (handler.queueDepth > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}
