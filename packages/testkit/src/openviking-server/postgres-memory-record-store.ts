import { type DB, type MigrateOutcome, migrateToLatest } from "@engram/store";
import type { Generated, Kysely, Migration } from "kysely";
import type {
  BufferedMessageRecord,
  MemoryRecord,
  MemoryRecordStore,
  OpenVikingTaskRecord,
} from "./memory-record-store.js";

export interface OpenVikingMemoryTable {
  uri: string;
  category: string;
  content: string;
  abstract: string;
  session_id: string;
  created_at: string;
}

export interface OpenVikingSessionTable {
  session_id: string;
  created_at: string;
}

export interface OpenVikingTaskTable {
  task_id: string;
  /** Insertion order, so listings are stable whatever the clock says. */
  seq: Generated<string>;
  body: string;
}

export interface OpenVikingBufferedMessageTable {
  message_id: string;
  session_id: string;
  role: string;
  content: string;
  created_at: string;
  /** Acknowledgement order. */
  seq: Generated<string>;
}

export interface OpenVikingServerDB {
  openviking_server_memory: OpenVikingMemoryTable;
  openviking_server_session: OpenVikingSessionTable;
  openviking_server_task: OpenVikingTaskTable;
  openviking_server_buffered_message: OpenVikingBufferedMessageTable;
}

const m001: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("openviking_server_memory")
      .addColumn("uri", "text", (c) => c.primaryKey())
      .addColumn("category", "text", (c) => c.notNull())
      .addColumn("content", "text", (c) => c.notNull())
      .addColumn("abstract", "text", (c) => c.notNull())
      .addColumn("session_id", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("openviking_server_session")
      .addColumn("session_id", "text", (c) => c.primaryKey())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("openviking_server_session").execute();
    await db.schema.dropTable("openviking_server_memory").execute();
  },
};

const m002: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("openviking_server_task")
      .addColumn("task_id", "text", (c) => c.primaryKey())
      .addColumn("seq", "bigserial", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("openviking_server_task").execute();
  },
};

/** Applies the stand-in server's own migrations (its own bookkeeping tables, fixed forever). */
const m003: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("openviking_server_buffered_message")
      .addColumn("message_id", "text", (col) => col.primaryKey())
      .addColumn("session_id", "text", (col) => col.notNull())
      .addColumn("role", "text", (col) => col.notNull())
      .addColumn("content", "text", (col) => col.notNull())
      .addColumn("created_at", "bigint", (col) => col.notNull())
      .addColumn("seq", "bigserial", (col) => col.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("openviking_server_buffered_message").execute();
  },
};

export function migrateOpenVikingServer<T>(db: Kysely<T>): Promise<MigrateOutcome> {
  return migrateToLatest(db, {
    migrations: {
      "001-openviking-server": m001,
      "002-openviking-server-tasks": m002,
      "003-openviking-server-buffered-messages": m003,
    },
    migrationTableName: "openviking_server_migration",
    migrationLockTableName: "openviking_server_migration_lock",
  });
}

function toRecord(row: OpenVikingMemoryTable): MemoryRecord {
  return {
    uri: row.uri,
    category: row.category,
    content: row.content,
    abstract: row.abstract,
    sessionId: row.session_id,
    createdAt: Number(row.created_at),
  };
}

/** Memories and session ids in PostgreSQL / PGlite, so a restarted server keeps them. */
export class PostgresMemoryRecordStore implements MemoryRecordStore {
  readonly #db: Kysely<OpenVikingServerDB>;

  /** Takes any database the migrations ran on; it only touches its own tables. */
  constructor(db: Kysely<DB>) {
    this.#db = db as unknown as Kysely<OpenVikingServerDB>;
  }

  async add(records: readonly MemoryRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.#db
      .insertInto("openviking_server_memory")
      .values(
        records.map((r) => ({
          uri: r.uri,
          category: r.category,
          content: r.content,
          abstract: r.abstract,
          session_id: r.sessionId,
          created_at: String(r.createdAt),
        })),
      )
      .onConflict((oc) => oc.column("uri").doNothing())
      .execute();
  }

  async list(): Promise<MemoryRecord[]> {
    const rows = await this.#db.selectFrom("openviking_server_memory").selectAll().orderBy("uri").execute();
    return rows.map(toRecord);
  }

  async get(uri: string): Promise<MemoryRecord | undefined> {
    const row = await this.#db
      .selectFrom("openviking_server_memory")
      .selectAll()
      .where("uri", "=", uri)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async delete(uri: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom("openviking_server_memory")
      .where("uri", "=", uri)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async addSession(sessionId: string, createdAt: number): Promise<void> {
    await this.#db
      .insertInto("openviking_server_session")
      .values({ session_id: sessionId, created_at: String(createdAt) })
      .onConflict((oc) => oc.column("session_id").doNothing())
      .execute();
  }

  async hasSession(sessionId: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom("openviking_server_session")
      .select("session_id")
      .where("session_id", "=", sessionId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async listSessions(): Promise<string[]> {
    const rows = await this.#db
      .selectFrom("openviking_server_session")
      .select("session_id")
      .orderBy("created_at")
      .orderBy("session_id")
      .execute();
    return rows.map((row) => row.session_id);
  }

  async deleteSession(sessionId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom("openviking_server_session")
      .where("session_id", "=", sessionId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async saveTask(task: OpenVikingTaskRecord): Promise<void> {
    const body = JSON.stringify(task);
    await this.#db
      .insertInto("openviking_server_task")
      .values({ task_id: task.task_id, body })
      .onConflict((oc) => oc.column("task_id").doUpdateSet({ body }))
      .execute();
  }

  async getTask(taskId: string): Promise<OpenVikingTaskRecord | undefined> {
    const row = await this.#db
      .selectFrom("openviking_server_task")
      .select("body")
      .where("task_id", "=", taskId)
      .executeTakeFirst();
    return row ? (JSON.parse(row.body) as OpenVikingTaskRecord) : undefined;
  }

  async listTasks(): Promise<OpenVikingTaskRecord[]> {
    const rows = await this.#db.selectFrom("openviking_server_task").select("body").orderBy("seq").execute();
    return rows.map((row) => JSON.parse(row.body) as OpenVikingTaskRecord);
  }

  async journalMessages(messages: readonly BufferedMessageRecord[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#db
      .insertInto("openviking_server_buffered_message")
      .values(
        messages.map((m) => ({
          message_id: m.id,
          session_id: m.sessionId,
          role: m.role,
          content: m.content,
          created_at: String(m.createdAt),
        })),
      )
      .execute();
  }

  async forgetMessages(messageIds: readonly string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.#db
      .deleteFrom("openviking_server_buffered_message")
      .where("message_id", "in", [...messageIds])
      .execute();
  }

  async journaledMessages(): Promise<BufferedMessageRecord[]> {
    const rows = await this.#db
      .selectFrom("openviking_server_buffered_message")
      .selectAll()
      .orderBy("seq")
      .execute();
    return rows.map((row) => ({
      id: row.message_id,
      sessionId: row.session_id,
      role: row.role,
      content: row.content,
      createdAt: Number(row.created_at),
    }));
  }

  async rekeyMessage(oldId: string, newId: string): Promise<void> {
    await this.#db
      .updateTable("openviking_server_buffered_message")
      .set({ message_id: newId })
      .where("message_id", "=", oldId)
      .execute();
  }
}
