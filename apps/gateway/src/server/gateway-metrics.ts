import type { SessionRuntimeObserver } from "@engram/sessions";
import { Counter, Gauge, Registry } from "prom-client";

/**
 * The gateway's Prometheus metrics, in a registry of their own (never prom-client's global one, so
 * two gateways in one process, as in tests, do not collide).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly turns = new Counter({
    name: "engram_gateway_turns_total",
    help: "Inbound messages by outcome (completed, duplicate, failed).",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly routingDecisions = new Counter({
    name: "engram_gateway_routing_decisions_total",
    help: "Session routing outcomes (reuse, resume, create, recover_peer, auto_reset, ...).",
    labelNames: ["decision"] as const,
    registers: [this.registry],
  });
  readonly resets = new Counter({
    name: "engram_gateway_session_resets_total",
    help: "Sessions left for a new one, by reason (idle, daily, suspended, resume_pending_expired, explicit).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly commits = new Counter({
    name: "engram_gateway_memory_commits_total",
    help: "Memory commits at session boundaries, by result (ok, failed).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly expiryFinalized = new Counter({
    name: "engram_gateway_sessions_expiry_finalized_total",
    help: "Expired sessions whose memory the expiry sweep committed and marked finalised (once each).",
    registers: [this.registry],
  });
  readonly routesPruned = new Counter({
    name: "engram_gateway_routes_pruned_total",
    help: "Routing entries dropped for being inactive longer than the route max age.",
    registers: [this.registry],
  });
  readonly agentCacheSize = new Gauge({
    name: "engram_gateway_agent_cache_size",
    help: "Sessions with a live agent in this process.",
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "engram_gateway_turn_queue_depth",
    help: "Turns queued or running, over all session keys.",
    registers: [this.registry],
  });
  readonly starts = new Counter({
    name: "engram_gateway_starts_total",
    help: "Starts of this process by how the instance's previous run ended (first_start, clean, unclean).",
    labelNames: ["previous_run"] as const,
    registers: [this.registry],
  });
  readonly restartRestored = new Counter({
    name: "engram_gateway_restart_restored_total",
    help: "Session keys an unclean start marked resume-pending (restart_interrupted).",
    registers: [this.registry],
  });
  readonly restartSuspended = new Counter({
    name: "engram_gateway_restart_suspended_total",
    help: "Session keys suspended on start after too many interrupted restarts in a row.",
    registers: [this.registry],
  });
  readonly restartContinuations = new Counter({
    name: "engram_gateway_restart_continuations_total",
    help: "Continuation turns of interrupted sessions after a start, by result (continued, skipped_*, failed).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  /** The session runtime's reports, counted in these series. */
  observer(): SessionRuntimeObserver {
    return {
      turn: (outcome) => this.turns.inc({ outcome }),
      reset: (reason) => this.resets.inc({ reason }),
      commit: (result) => this.commits.inc({ result }),
      queueDepth: (depth) => this.queueDepth.set(depth),
      cachedAgents: (count) => this.agentCacheSize.set(count),
      expiryFinalized: () => this.expiryFinalized.inc(),
      routesPruned: (count) => this.routesPruned.inc(count),
      started: (previousRun) => this.starts.inc({ previous_run: previousRun }),
      restartRestored: (marked, suspended) => {
        this.restartRestored.inc(marked);
        this.restartSuspended.inc(suspended);
      },
      restartContinuation: (result) => this.restartContinuations.inc({ result }),
    };
  }
}
