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
import type { GatewayConfig } from "../config/gateway-config.js";
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
  /**
   * Graceful stop: keys with a turn in progress are marked resume-pending (the next message
   * auto-continues them), the server stops taking requests and waits for running ones, then every
   * session's uncommitted memory is committed before the deadline.
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
      await expiryWatcher.stop();
      for (const key of handler.busyKeys()) {
        await routingIndex.markResumePending(key, GATEWAY_SHUTDOWN_RESUME_REASON);
      }
      await server.close();
      await coordinator.drainAll({ deadlineMs: closeProps.drainDeadlineMs ?? 30_000 });
      await coordinator.close();
      await agentRunner?.close();
      if (storeOpening) await (await storeOpening.catch(() => undefined))?.close();
    })();
    return closing;
  };
  return { server, router, handler, coordinator, metrics, expiryWatcher, routingIndex, transcripts, close };
}
