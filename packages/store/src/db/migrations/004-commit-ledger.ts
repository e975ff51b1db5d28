import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.
//
// The commit ledger (seed 000). Every ledger operation is one call of a plpgsql function: one round
// trip, one transaction. Each function first locks the session's `commit_sessions` row (the upsert in
// `mark`, `for update` elsewhere), so operations on one session serialise across processes; and in
// READ COMMITTED every later statement of a volatile function takes a fresh snapshot, so it sees what
// the previous lock holder committed. Times are epoch ms passed in by the caller's clock.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("commit_sessions")
    .addColumn("session_id", "text", (col) => col.primaryKey())
    .addColumn("generation", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("committed", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("lease_seq", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("lease_id", "bigint")
    .addColumn("lease_instance", "text")
    .addColumn("lease_expires_at", "bigint")
    .addCheckConstraint("commit_sessions_committed_le_generation", sql`committed <= generation`)
    .execute();

  // Drains list dirty sessions; clean ones are the vast majority of rows.
  await db.schema
    .createIndex("commit_sessions_dirty_idx")
    .on("commit_sessions")
    .column("session_id")
    .where(sql.ref("generation"), ">", sql.ref("committed"))
    .execute();

  await db.schema
    .createTable("commit_segments")
    .addColumn("session_id", "text", (col) => col.notNull())
    .addColumn("start_gen", "bigint", (col) => col.notNull())
    .addColumn("end_gen", "bigint", (col) => col.notNull())
    .addColumn("owner_instance", "text")
    .addColumn("owner_agent", "text")
    .addPrimaryKeyConstraint("commit_segments_pk", ["session_id", "start_gen"])
    .addCheckConstraint("commit_segments_ordered", sql`start_gen <= end_gen`)
    .addCheckConstraint("commit_segments_owner_pair", sql`(owner_instance is null) = (owner_agent is null)`)
    .execute();

  await db.schema
    .createTable("commit_instances")
    .addColumn("instance_id", "text", (col) => col.primaryKey())
    .addColumn("expires_at", "bigint", (col) => col.notNull())
    .execute();

  await sql`
    create function engram_commit_mark(p_session text, p_instance text, p_agent text)
    returns bigint language plpgsql as $$
    declare
      g bigint;
    begin
      insert into commit_sessions as s (session_id, generation) values (p_session, 1)
      on conflict (session_id) do update set generation = s.generation + 1
      returning s.generation into g;
      -- The session row is locked: extend the last segment if it is still uncommitted and has the
      -- same owner, otherwise open a new one.
      update commit_segments set end_gen = g
       where session_id = p_session and end_gen = g - 1
         and owner_instance is not distinct from p_instance
         and owner_agent is not distinct from p_agent;
      if not found then
        insert into commit_segments (session_id, start_gen, end_gen, owner_instance, owner_agent)
        values (p_session, g, g, p_instance, p_agent);
      end if;
      return g;
    end $$
  `.execute(db);

  await sql`
    create function engram_commit_claim(
      p_session text, p_instance text, p_fallback_agent text, p_lease_ms bigint, p_now bigint,
      p_async boolean
    )
    returns table (
      o_status text, o_lease_id bigint, o_start bigint, o_end bigint,
      o_owner_instance text, o_owner_agent text, o_expires_at bigint
    ) language plpgsql as $$
    declare
      s commit_sessions%rowtype;
      seg commit_segments%rowtype;
      lease bigint;
    begin
      if p_async then perform set_config('synchronous_commit', 'off', true); end if;
      select * into s from commit_sessions where session_id = p_session for update;
      if not found or s.generation <= s.committed then
        return query select 'clean'::text, null::bigint, null::bigint, null::bigint, null::text, null::text, null::bigint;
        return;
      end if;
      if s.lease_id is not null and s.lease_expires_at > p_now then
        return query select 'in_flight'::text, null::bigint, null::bigint, null::bigint, null::text, null::text,
          s.lease_expires_at;
        return;
      end if;
      select * into seg from commit_segments
       where session_id = p_session and end_gen > s.committed
       order by start_gen limit 1;
      if not found then
        return query select 'clean'::text, null::bigint, null::bigint, null::bigint, null::text, null::text, null::bigint;
        return;
      end if;
      if seg.owner_instance is null or (
        seg.owner_instance <> p_instance and not exists (
          select 1 from commit_instances i where i.instance_id = seg.owner_instance and i.expires_at > p_now
        )
      ) then
        if p_fallback_agent is null then
          return query select 'no_owner'::text, null::bigint, null::bigint, null::bigint, null::text, null::text,
            null::bigint;
          return;
        end if;
        update commit_segments set owner_instance = p_instance, owner_agent = p_fallback_agent
         where session_id = p_session and start_gen = seg.start_gen;
        seg.owner_instance := p_instance;
        seg.owner_agent := p_fallback_agent;
      elsif seg.owner_instance <> p_instance then
        return query select 'foreign_owner'::text, null::bigint, null::bigint, null::bigint, seg.owner_instance,
          seg.owner_agent, null::bigint;
        return;
      end if;
      lease := s.lease_seq + 1;
      update commit_sessions
         set lease_seq = lease, lease_id = lease, lease_instance = p_instance,
             lease_expires_at = p_now + p_lease_ms
       where session_id = p_session;
      return query select 'claimed'::text, lease, greatest(seg.start_gen, s.committed + 1), seg.end_gen,
        seg.owner_instance, seg.owner_agent, p_now + p_lease_ms;
    end $$
  `.execute(db);

  await sql`
    create function engram_commit_complete(p_session text, p_lease_id bigint, p_end bigint)
    returns text language plpgsql as $$
    declare
      s commit_sessions%rowtype;
      c bigint;
    begin
      select * into s from commit_sessions where session_id = p_session for update;
      if not found or s.lease_id is distinct from p_lease_id then
        return 'lost';
      end if;
      c := greatest(s.committed, least(p_end, s.generation));
      update commit_sessions
         set committed = c, lease_id = null, lease_instance = null, lease_expires_at = null
       where session_id = p_session;
      -- Compare-and-clear: only generations up to the captured end; later ones stay.
      delete from commit_segments where session_id = p_session and end_gen <= c;
      update commit_segments set start_gen = c + 1 where session_id = p_session and start_gen <= c;
      return case when s.generation > c then 'dirty' else 'clean' end;
    end $$
  `.execute(db);

  await sql`
    create function engram_commit_release(p_session text, p_lease_id bigint, p_async boolean)
    returns boolean language plpgsql as $$
    begin
      if p_async then perform set_config('synchronous_commit', 'off', true); end if;
      update commit_sessions set lease_id = null, lease_instance = null, lease_expires_at = null
       where session_id = p_session and lease_id = p_lease_id;
      return found;
    end $$
  `.execute(db);

  await sql`
    create function engram_commit_renew(
      p_session text, p_lease_id bigint, p_lease_ms bigint, p_now bigint, p_async boolean
    )
    returns boolean language plpgsql as $$
    begin
      if p_async then perform set_config('synchronous_commit', 'off', true); end if;
      update commit_sessions set lease_expires_at = p_now + p_lease_ms
       where session_id = p_session and lease_id = p_lease_id;
      return found;
    end $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists engram_commit_renew(text, bigint, bigint, bigint, boolean)`.execute(db);
  await sql`drop function if exists engram_commit_release(text, bigint, boolean)`.execute(db);
  await sql`drop function if exists engram_commit_complete(text, bigint, bigint)`.execute(db);
  await sql`drop function if exists engram_commit_claim(text, text, text, bigint, bigint, boolean)`.execute(
    db,
  );
  await sql`drop function if exists engram_commit_mark(text, text, text)`.execute(db);
  await db.schema.dropTable("commit_instances").execute();
  await db.schema.dropTable("commit_segments").execute();
  await db.schema.dropTable("commit_sessions").execute();
}
