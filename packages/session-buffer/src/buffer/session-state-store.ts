/**
 * Session state store port: where a session's durable state (task, commitments, window, extraction
 * summary, counters) is saved between restarts and idle evictions. The messages themselves are not
 * part of it: unarchived messages keep a session from being evicted instead.
 *
 * Implemented by `InMemorySessionStateStore` (reference) and `@engram/store`'s
 * `PostgresSessionStateStore`.
 */
import type { JsonObject } from "@engram/core";

/**
 * What is persisted per session. `payload` is versioned JSON owned by the session buffer manager;
 * stores keep it opaque and hand it back unchanged.
 */
export interface SessionStateSnapshot {
  readonly sessionId: string;
  readonly payload: JsonObject;
  /** Epoch ms of the save. */
  readonly savedAt: number;
}

/**
 * Guarantees: `save` replaces the previous snapshot of the session atomically (last writer wins, no
 * torn payloads); `load` returns the latest saved snapshot or `undefined`; backing-store failures
 * surface as `STORE_FAILED`.
 */
export interface SessionStateStore {
  load(sessionId: string): Promise<SessionStateSnapshot | undefined>;
  save(snapshot: SessionStateSnapshot): Promise<void>;
  /** True when a snapshot was deleted. */
  delete(sessionId: string): Promise<boolean>;
}
