import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.
//
// A platform message id must be unique per session key over all of the key's sessions (a retry after
// `/new` is still a retry), across processes. `messages` cannot carry that constraint: a branch copies
// its parent's messages, platform ids included, into another session of the same key. So each first
// delivery gets a receipt row whose primary key is (session key, platform id), written in the same
// transaction as the user message.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("platform_message_receipts")
    .addColumn("session_key", "text", (col) => col.notNull())
    .addColumn("platform_message_id", "text", (col) => col.notNull())
    // Pruning a session forgets its deliveries with it, as it forgets its messages.
    .addColumn("session_id", "text", (col) => col.notNull().references("sessions.id").onDelete("cascade"))
    // No foreign key: a replaced transcript (new message ids) must not make a delivery new again.
    .addColumn("message_id", "bigint", (col) => col.notNull())
    .addColumn("received_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("platform_message_receipts_pk", ["session_key", "platform_message_id"])
    .execute();
  await db.schema
    .createIndex("platform_message_receipts_session_idx")
    .on("platform_message_receipts")
    .column("session_id")
    .execute();

  // Receipts for what is stored already. Databases written before this migration may hold one id in
  // several sessions of a key (the bug this table fixes): the earliest row (smallest id, so an
  // original before its branch copies) becomes the receipt and the later ones stay as they are, so
  // this never fails on old data.
  await sql`
    insert into platform_message_receipts (session_key, platform_message_id, session_id, message_id, received_at)
    select distinct on (s.session_key, m.platform_message_id)
           s.session_key, m.platform_message_id, m.session_id, m.id, m.created_at
      from messages m
      join sessions s on s.id = m.session_id
     where m.platform_message_id is not null and s.session_key is not null
     order by s.session_key, m.platform_message_id, m.id
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("platform_message_receipts").execute();
}
