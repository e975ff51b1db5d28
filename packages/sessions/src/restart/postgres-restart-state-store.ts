import { type Clock, systemClock } from "@engram/core";
import type { Kysely } from "kysely";
import type { SessionsDB } from "../db/schema/index.js";
import type { InterruptedKey, PreviousRun, RestartStateStore } from "./restart-state-store.js";

/** {@link RestartStateStore} on the session runtime's own tables (`migrateSessions`), Postgres or PGlite. */
export class PostgresRestartStateStore implements RestartStateStore {
  readonly #db: Kysely<SessionsDB>;
  readonly #clock: Clock;

  constructor(db: Kysely<SessionsDB>, props: { readonly clock?: Clock } = {}) {
    this.#db = db;
    this.#clock = props.clock ?? systemClock;
  }

  async beginRun(instance: string): Promise<PreviousRun> {
    const now = new Date(this.#clock.now());
    return this.#db.transaction().execute(async (trx) => {
      // The row lock makes read-and-consume one step, so two starts of one instance cannot both see `clean`.
      const row = await trx
        .selectFrom("gateway_instances")
        .select("clean_shutdown_at")
        .where("instance", "=", instance)
        .forUpdate()
        .executeTakeFirst();
      await trx
        .insertInto("gateway_instances")
        .values({ instance, started_at: now, clean_shutdown_at: null })
        .onConflict((oc) => oc.column("instance").doUpdateSet({ started_at: now, clean_shutdown_at: null }))
        .execute();
      if (!row) return "first_start";
      return row.clean_shutdown_at === null ? "unclean" : "clean";
    });
  }

  async recordCleanShutdown(instance: string): Promise<void> {
    await this.#db
      .updateTable("gateway_instances")
      .set({ clean_shutdown_at: new Date(this.#clock.now()) })
      .where("instance", "=", instance)
      .execute();
  }

  async countInterruptedRestarts(keys: readonly InterruptedKey[]): Promise<Map<string, number>> {
    const now = new Date(this.#clock.now());
    const counts = new Map<string, number>();
    await this.#db.transaction().execute(async (trx) => {
      const wanted = keys.map((key) => key.sessionKey);
      // Keys not interrupted by this restart lost their streak ("in a row").
      let gone = trx.deleteFrom("gateway_interrupted_keys");
      if (wanted.length > 0) gone = gone.where("session_key", "not in", wanted);
      await gone.execute();
      if (keys.length === 0) return;
      const previous = new Map<string, { session_id: string; interrupted_restarts: number }>();
      for (let i = 0; i < wanted.length; i += 1000) {
        const rows = await trx
          .selectFrom("gateway_interrupted_keys")
          .select(["session_key", "session_id", "interrupted_restarts"])
          .where("session_key", "in", wanted.slice(i, i + 1000))
          .forUpdate()
          .execute();
        for (const row of rows) previous.set(row.session_key, row);
      }
      const values = keys.map((key) => {
        const row = previous.get(key.sessionKey);
        const streak = key.wasPending && row?.session_id === key.sessionId ? row.interrupted_restarts : 0;
        counts.set(key.sessionKey, streak + 1);
        return {
          session_key: key.sessionKey,
          session_id: key.sessionId,
          interrupted_restarts: streak + 1,
          updated_at: now,
        };
      });
      for (let i = 0; i < values.length; i += 1000) {
        await trx
          .insertInto("gateway_interrupted_keys")
          .values(values.slice(i, i + 1000))
          .onConflict((oc) =>
            oc.column("session_key").doUpdateSet((eb) => ({
              session_id: eb.ref("excluded.session_id"),
              interrupted_restarts: eb.ref("excluded.interrupted_restarts"),
              updated_at: eb.ref("excluded.updated_at"),
            })),
          )
          .execute();
      }
    });
    return counts;
  }

  async forget(sessionKey: string): Promise<void> {
    await this.#db.deleteFrom("gateway_interrupted_keys").where("session_key", "=", sessionKey).execute();
  }
}
