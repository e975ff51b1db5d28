import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.

// Every new message and every session update notifies `engram_transcripts_<schema>` with the session id,
// so readers in other processes (the web UI's view of the gateway's sessions) hear about changes at
// once instead of polling. The schema is part of the channel: notifications are per database.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function engram_notify_message() returns trigger language plpgsql as $$
    begin
      perform pg_notify('engram_transcripts_' || tg_table_schema, new.session_id);
      return null;
    end $$
  `.execute(db);
  await sql`
    create function engram_notify_session() returns trigger language plpgsql as $$
    begin
      perform pg_notify('engram_transcripts_' || tg_table_schema, new.id);
      return null;
    end $$
  `.execute(db);
  await sql`
    create trigger messages_notify after insert on messages
      for each row execute function engram_notify_message()
  `.execute(db);
  await sql`
    create trigger sessions_notify after update on sessions
      for each row execute function engram_notify_session()
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists sessions_notify on sessions`.execute(db);
  await sql`drop trigger if exists messages_notify on messages`.execute(db);
  await sql`drop function if exists engram_notify_session()`.execute(db);
  await sql`drop function if exists engram_notify_message()`.execute(db);
}
