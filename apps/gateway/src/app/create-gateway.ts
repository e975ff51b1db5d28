import { createChatModel, isModelConfigured } from "@engram/agent";
import { buildSessionContextPrompt, type Clock, MemoryCommitCoordinator, systemClock } from "@engram/core";
import {
  type HolographicDB,
  HolographicFactStore,
  HolographicProvider,
  migrateHolographic,
} from "@engram/provider-holographic";
import { type DB, PostgresRoutingIndex, PostgresTranscriptStore } from "@engram/store";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { Kysely } from "kysely";
import type { PlatformAdapter } from "../adapters/platform-adapter.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import { migrateGateway } from "../db/migrations/index.js";
import type { GatewayDB } from "../db/schema/index.js";
import { PostgresRestartStateStore } from "../restart/postgres-restart-state-store.js";
import { RestartRecovery, type RestoreReport } from "../restart/restart-recovery.js";
import { SessionRouter } from "../routing/session-router.js";
import { buildGatewayServer } from "../server/build-gateway-server.js";
import { GatewayMetrics } from "../server/gateway-metrics.js";
import { AgentTurnRunner } from "../turns/agent-turn-runner.js";
import { GatewayTurnHandler } from "../turns/gateway-turn-handler.js";
import { SessionExpiryWatcher } from "../turns/session-expiry-watcher.js";
import type { TurnRunner } from "../turns/turn-runner.js";

/** Resume reason written on keys that had a turn in progress when the gateway stopped. */
export const GATEWAY_SHUTDOWN_RESUME_REASON = "gateway_shutdown";

export interface CreateGatewayProps {
  readonly config: GatewayConfig;
  /** A migrated `@engram/store` database. */
  readonly db: Kysely<DB>;
  readonly clock?: Clock;
  /**
   * Default: an {@link AgentTurnRunner} (`@engram/agent`, `createChatModel()`: the offline model unless
   * `ENGRAM_MODEL*` is set) with the Holographic provider on `db`, one fact store per process.
   */
  readonly runner?: TurnRunner;
  readonly logger?: FastifyServerOptions["logger"];
  /** Default: a new in-process coordinator (pass one to build a runner that shares it). */
  readonly coordinator?: MemoryCommitCoordinator;
  /** Messaging platforms: their routes are added now, they start once the server listens. */
  readonly adapters?: readonly PlatformAdapter[];
}

export interface GatewayListenProps {
  readonly host: string;
  readonly port: number;
}

export interface Gateway {
  readonly server: FastifyInstance;
  readonly router: SessionRouter;
  readonly handler: GatewayTurnHandler;
  readonly coordinator: MemoryCommitCoordinator;
  readonly metrics: GatewayMetrics;
  readonly expiryWatcher: SessionExpiryWatcher;
  readonly routingIndex: PostgresRoutingIndex;
  readonly transcripts: PostgresTranscriptStore;
  readonly recovery: RestartRecovery;
  /**
   * Starts serving: restores after the previous run (see {@link RestartRecovery}: continuations of
   * interrupted sessions are queued before the first request is taken), listens, then starts the
   * adapters; continuation replies are delivered once they are up. Resolves with the restore report.
   */
  listen(props: GatewayListenProps): Promise<RestoreReport>;
  /**
   * Graceful stop: keys with a turn in progress are marked resume-pending, the server stops taking
   * requests and waits for running turns (continuations included), then every session's uncommitted
   * memory is committed. The clean-shutdown marker is recorded only when all of that finished within
   * the deadline (default `config.drainDeadlineMs`); otherwise the next start restores.
   */
  close(props?: { readonly drainDeadlineMs?: number }): Promise<void>;
}

/** The composition root: ports on the database, router, coordinator, turn pipeline and HTTP server. */
export function createGateway(props: CreateGatewayProps): Gateway {
  const clock = props.clock ?? systemClock;
  const routingIndex = new PostgresRoutingIndex(props.db, { clock });
  const transcripts = new PostgresTranscriptStore(props.db, { clock });
  const metrics = new GatewayMetrics();
  const router = new SessionRouter({
    routingIndex,
    transcripts,
    clock,
    resumeFreshnessMs: props.config.resumeFreshnessMs,
    isolation: {
      groupSessionsPerUser: props.config.groupSessionsPerUser,
      threadSessionsPerUser: props.config.threadSessionsPerUser,
    },
    ...(props.config.resetPolicy ? { resetPolicies: { default: props.config.resetPolicy } } : {}),
  });
  router.onOutcome = (decision) => metrics.routingDecisions.inc({ decision });
  const coordinator = props.coordinator ?? new MemoryCommitCoordinator({ clock });
  let storeOpening: Promise<HolographicFactStore> | undefined;
  const openStore = () => {
    storeOpening ??= migrateHolographic(props.db).then(() =>
      HolographicFactStore.open({ db: props.db as unknown as Kysely<HolographicDB> }),
    );
    return storeOpening;
  };
  const agentRunner = props.runner
    ? undefined
    : new AgentTurnRunner({
        coordinator,
        model: createChatModel(),
        maxAgents: props.config.maxAgents,
        idleTtlMs: props.config.agentIdleTtlMs,
        clock,
        modelFor: (override) =>
          override.model && isModelConfigured(process.env)
            ? createChatModel({ model: override.model })
            : undefined,
        providers: () => [new HolographicProvider({ openStore, autoExtract: true })],
      });
  const runner = props.runner ?? (agentRunner as AgentTurnRunner);
  const handler = new GatewayTurnHandler({
    router,
    routingIndex,
    transcripts,
    runner,
    coordinator,
    metrics,
    maxTextBytes: props.config.maxTextBytes,
    modelSwitchable: agentRunner !== undefined && isModelConfigured(process.env),
    sessionContext: (source) =>
      buildSessionContextPrompt(
        { source, connectedPlatforms: [source.platform], homeChannels: [] },
        { redactPii: props.config.redactPii },
      ),
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
  const adapters = props.adapters ?? [];
  for (const adapter of adapters) adapter.register(server, (message) => handler.handle(message));
  // Continuation replies wait for this gate: opened once the adapters started (or the gateway stops).
  let openAdapterGate!: () => void;
  const adaptersUp = new Promise<void>((resolve) => {
    openAdapterGate = resolve;
  });
  const startedAdapters = new Set<PlatformAdapter>();
  const recovery = new RestartRecovery({
    instance: props.config.instance,
    state: new PostgresRestartStateStore(props.db as unknown as Kysely<GatewayDB>, { clock }),
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
    metrics,
    logger: server.log,
  });
  const listen = async (listenProps: GatewayListenProps): Promise<RestoreReport> => {
    await migrateGateway(props.db);
    const report = await recovery.restore();
    await server.listen({ host: listenProps.host, port: listenProps.port });
    for (const adapter of adapters) {
      try {
        await adapter.start?.();
        startedAdapters.add(adapter);
      } catch (error) {
        server.log.error({ platform: adapter.platform, err: error }, "adapter did not start");
      }
    }
    openAdapterGate();
    return report;
  };
  const expiryWatcher = new SessionExpiryWatcher({
    routingIndex,
    router,
    handler,
    ...(agentRunner ? { agents: agentRunner } : {}),
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
      const drain = await coordinator.drainAll({ deadlineMs: Math.max(0, deadline - Date.now()) });
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
      if (storeOpening) await (await storeOpening.catch(() => undefined))?.close();
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
    recovery,
    listen,
    close,
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
