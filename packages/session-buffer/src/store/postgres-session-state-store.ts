import { assertSafeId, InvalidArgumentError, isEngramError, type JsonObject, StoreError } from "@engram/core";
import type { Kysely } from "kysely";
import type { SessionStateSnapshot, SessionStateStore } from "../buffer/index.js";
import type { SessionBufferDB } from "../db/schema/index.js";

const ms = (value: Date | string): number => (value instanceof Date ? value.getTime() : Date.parse(value));

/**
 * {@link SessionStateStore} on PostgreSQL or PGlite: one row per session in `session_states`, saved
 * with a single upsert so a reader never sees half a payload.
 */
export class PostgresSessionStateStore implements SessionStateStore {
  readonly #db: Kysely<SessionBufferDB>;

  constructor(db: Kysely<SessionBufferDB>) {
    this.#db = db;
  }

  async #guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isEngramError(error)) throw error;
      throw new StoreError(operation, error);
    }
  }

  async load(sessionId: string): Promise<SessionStateSnapshot | undefined> {
    assertSafeId("session id", sessionId);
    return this.#guard("sessionState.load", async () => {
      const row = await this.#db
        .selectFrom("session_states")
        .selectAll()
        .where("session_id", "=", sessionId)
        .executeTakeFirst();
      if (!row) return undefined;
      const payload = typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload;
      return { sessionId: row.session_id, payload: payload as JsonObject, savedAt: ms(row.saved_at) };
    });
  }

  async save(snapshot: SessionStateSnapshot): Promise<void> {
    assertSafeId("session id", snapshot.sessionId);
    if (
      typeof snapshot.payload !== "object" ||
      snapshot.payload === null ||
      Array.isArray(snapshot.payload)
    ) {
      throw new InvalidArgumentError("payload", "must be a JSON object");
    }
    if (!Number.isFinite(snapshot.savedAt))
      throw new InvalidArgumentError("savedAt", "must be a finite number");
    const payload = JSON.stringify(snapshot.payload);
    const savedAt = new Date(snapshot.savedAt);
    await this.#guard("sessionState.save", () =>
      this.#db
        .insertInto("session_states")
        .values({ session_id: snapshot.sessionId, payload, saved_at: savedAt })
        .onConflict((oc) => oc.column("session_id").doUpdateSet({ payload, saved_at: savedAt }))
        .execute(),
    );
  }

  async delete(sessionId: string): Promise<boolean> {
    assertSafeId("session id", sessionId);
    return this.#guard("sessionState.delete", async () => {
      const row = await this.#db
        .deleteFrom("session_states")
        .where("session_id", "=", sessionId)
        .returning("session_id")
        .executeTakeFirst();
      return row !== undefined;
    });
  }
}
