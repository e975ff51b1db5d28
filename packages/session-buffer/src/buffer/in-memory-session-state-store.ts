import { assertSafeId } from "@engram/core";
import type { SessionStateSnapshot, SessionStateStore } from "./session-state-store.js";

/** The reference {@link SessionStateStore}: deep copies in a map, so callers never share state with it. */
export class InMemorySessionStateStore implements SessionStateStore {
  readonly #snapshots = new Map<string, SessionStateSnapshot>();

  async load(sessionId: string): Promise<SessionStateSnapshot | undefined> {
    assertSafeId("session id", sessionId);
    const snapshot = this.#snapshots.get(sessionId);
    return snapshot ? structuredClone(snapshot) : undefined;
  }

  async save(snapshot: SessionStateSnapshot): Promise<void> {
    assertSafeId("session id", snapshot.sessionId);
    this.#snapshots.set(snapshot.sessionId, structuredClone(snapshot));
  }

  async delete(sessionId: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    return this.#snapshots.delete(sessionId);
  }
}
