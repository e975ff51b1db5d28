import {
  type Clock,
  COMMIT_LEDGER,
  type CommitLedger,
  HOST_DATABASE,
  ROUTING_INDEX,
  type RoutingIndex,
  systemClock,
  TRANSCRIPT_STORE,
  type TranscriptStore,
  WEB_SESSION_STORE,
  type WebSessionStore,
} from "@engram/core";
import type { Kysely } from "kysely";
import type { DependencyContainer } from "tsyringe";
import { PostgresCommitLedger } from "../commit-ledger/postgres-commit-ledger.js";
import type { DB } from "../db/schema/index.js";
import { PostgresRoutingIndex } from "../routing-index/postgres-routing-index.js";
import { PostgresTranscriptStore } from "../transcripts/postgres-transcript-store.js";
import { PostgresWebSessionStore } from "../web-sessions/postgres-web-session-store.js";

export interface RegisterPostgresPortsProps {
  /**
   * Clock of the session ports (transcripts, routing index, web sessions): reset policies and
   * timestamps read it, so tests may move it. Default: the system clock.
   */
  readonly clock?: Clock;
}

/** The port instances {@link registerPostgresPorts} registered, for a composition root that wires them further. */
export interface PostgresPorts {
  readonly transcripts: PostgresTranscriptStore;
  readonly routingIndex: PostgresRoutingIndex;
  readonly webSessions: PostgresWebSessionStore;
  readonly commitLedger: PostgresCommitLedger;
}

/**
 * Registers `@engram/store`'s implementations of core's ports on `db` (migrated with `migrateStore`)
 * in a host's container, one instance each: `TRANSCRIPT_STORE`, `ROUTING_INDEX`, `WEB_SESSION_STORE`,
 * `COMMIT_LEDGER`, and the database itself as `HOST_DATABASE` (plugins that keep tables put them
 * there). The caller keeps owning `db` and closes it after the container's last user stopped.
 *
 * The commit ledger always reads the system clock, whatever `props.clock` is: its leases and
 * instance liveness are compared across processes, which only real time makes comparable.
 */
export function registerPostgresPorts(
  container: DependencyContainer,
  db: Kysely<DB>,
  props: RegisterPostgresPortsProps = {},
): PostgresPorts {
  const clock = props.clock ?? systemClock;
  const ports: PostgresPorts = {
    transcripts: new PostgresTranscriptStore(db, { clock }),
    routingIndex: new PostgresRoutingIndex(db, { clock }),
    webSessions: new PostgresWebSessionStore(db, { clock }),
    commitLedger: new PostgresCommitLedger(db, { clock: systemClock }),
  };
  container.register<Kysely<DB>>(HOST_DATABASE, { useValue: db });
  container.register<TranscriptStore>(TRANSCRIPT_STORE, { useValue: ports.transcripts });
  container.register<RoutingIndex>(ROUTING_INDEX, { useValue: ports.routingIndex });
  container.register<WebSessionStore>(WEB_SESSION_STORE, { useValue: ports.webSessions });
  container.register<CommitLedger>(COMMIT_LEDGER, { useValue: ports.commitLedger });
  return ports;
}
