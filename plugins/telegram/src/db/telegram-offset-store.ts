import type { Kysely } from "kysely";
import { migrateTelegram } from "./migrations/index.js";

/**
 * Where long polling keeps the next `update_id` to ask `getUpdates` for, per bot.
 *
 * Guarantees an implementer must keep: `write` resolves only once the offset is durable (a restart's
 * `read` returns it), and `read` returns the last written value.
 */
export interface TelegramOffsetStore {
  /** Creates what the store needs (tables); idempotent. */
  prepare(): Promise<void>;
  read(botId: string): Promise<number | undefined>;
  write(botId: string, nextUpdateId: number): Promise<void>;
}

/** In-process reference implementation: tests, and hosts without a database (offsets die with the process). */
export class MemoryTelegramOffsetStore implements TelegramOffsetStore {
  readonly #offsets = new Map<string, number>();
  async prepare(): Promise<void> {}
  async read(botId: string): Promise<number | undefined> {
    return this.#offsets.get(botId);
  }
  async write(botId: string, nextUpdateId: number): Promise<void> {
    this.#offsets.set(botId, nextUpdateId);
  }
}

interface OffsetTables {
  telegram_update_offsets: { bot_id: string; next_update_id: string | number | bigint; updated_at?: Date };
}

/** The offsets in the host's database (PostgreSQL or PGlite), table `telegram_update_offsets`. */
export class PostgresTelegramOffsetStore<T = unknown> implements TelegramOffsetStore {
  readonly #db: Kysely<OffsetTables>;

  /** `db`: the host's database (any table types; the adapter's own table is migrated by `prepare`). */
  constructor(db: Kysely<T>) {
    this.#db = db as unknown as Kysely<OffsetTables>;
  }

  async prepare(): Promise<void> {
    await migrateTelegram(this.#db);
  }

  async read(botId: string): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom("telegram_update_offsets")
      .select("next_update_id")
      .where("bot_id", "=", botId)
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.next_update_id);
  }

  async write(botId: string, nextUpdateId: number): Promise<void> {
    await this.#db
      .insertInto("telegram_update_offsets")
      .values({ bot_id: botId, next_update_id: String(nextUpdateId) })
      .onConflict((oc) =>
        oc.column("bot_id").doUpdateSet({ next_update_id: String(nextUpdateId), updated_at: new Date() }),
      )
      .execute();
  }
}
