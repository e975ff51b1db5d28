import { type Kysely, sql } from "kysely";

// Shipped migrations are never edited: add a new numbered file instead.
//
// The commit ledger (seed 000). Every ledger operation is one call of a plpgsql function: one round
// trip, one transaction. Each function first locks the session's `commit_sessions` row (the upsert in
// `mark`, `for update` elsewhere), so operations on one session serialise across processes; and in
// READ COMMITTED every later statement of a volatile function takes a fresh snapshot, so it sees what
// the previous lock holder committed. Times are epoch ms passed in by the caller's clock.

export async function up(db: Kysely<unknown>): Promise<void> {
  // The open tail segment (the newest uncommitted generations, `tail_start..generation`, one owner)
  // lives in the session row, so the common mark, claim and completion touch one row with one
  // statement. Earlier segments, closed when a turn of another owner arrived, are rows of
  // `commit_segments`; `closed_count` counts them so the fast paths can check "none" on the locked row.
  await db.schema
    .createTable("commit_sessions")
    .addColumn("session_id", "text", (col) => col.primaryKey())
    .addColumn("generation", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("committed", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("tail_start", "bigint")
    .addColumn("tail_instance", "text")
    .addColumn("tail_agent", "text")
    .addColumn("closed_count", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("lease_seq", "bigint", (col) => col.notNull().defaultTo(0))
    .addColumn("lease_id", "bigint")
    .addColumn("lease_instance", "text")
    .addColumn("lease_expires_at", "bigint")
    .addCheckConstraint("commit_sessions_committed_le_generation", sql`committed <= generation`)
    .addCheckConstraint(
      "commit_sessions_tail_owner_pair",
      sql`(tail_instance is null) = (tail_agent is null)`,
    )
    // Every mark, claim and completion updates its row: leave room on the page and index nothing but
    // the key, so those updates stay HOT (no index writes). A partial "dirty" index would reference
    // generation/committed and make every one of them a non-HOT update; drains scan instead.
    .modifyEnd(sql`with (fillfactor = 70)`)
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
      s commit_sessions%rowtype;
    begin
      -- Common case, one statement: a new session, a clean one, or a tail of the same owner.
      insert into commit_sessions as t (session_id, generation, tail_start, tail_instance, tail_agent)
      values (p_session, 1, 1, p_instance, p_agent)
      on conflict (session_id) do update
         set generation = t.generation + 1,
             tail_start = coalesce(t.tail_start, t.generation + 1),
             tail_instance = p_instance,
             tail_agent = p_agent
       where t.tail_start is null
          or (t.tail_instance is not distinct from p_instance and t.tail_agent is not distinct from p_agent)
      returning t.generation into g;
      if found then
        return g;
      end if;
      -- The tail has another owner (the upsert locked the row anyway): close it, open a new one.
      select * into s from commit_sessions where session_id = p_session for update;
      insert into commit_segments (session_id, start_gen, end_gen, owner_instance, owner_agent)
      values (p_session, s.tail_start, s.generation, s.tail_instance, s.tail_agent);
      update commit_sessions
         set generation = s.generation + 1, tail_start = s.generation + 1,
             tail_instance = p_instance, tail_agent = p_agent, closed_count = s.closed_count + 1
       where session_id = p_session;
      return s.generation + 1;
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
      seg_start bigint;
      seg_end bigint;
      own_instance text;
      own_agent text;
      is_tail boolean := true;
      lease bigint;
    begin
      if p_async then
        perform set_config('synchronous_commit', 'off', true);
      end if;
      -- Common case, one statement: the head is the open tail, ours, and no live lease.
      update commit_sessions
         set lease_seq = lease_seq + 1, lease_id = lease_seq + 1, lease_instance = p_instance,
             lease_expires_at = p_now + p_lease_ms
       where session_id = p_session and generation > committed and closed_count = 0
         and tail_instance = p_instance and (lease_id is null or lease_expires_at <= p_now)
      returning * into s;
      if found then
        return query select 'claimed'::text, s.lease_id, greatest(s.tail_start, s.committed + 1), s.generation,
          s.tail_instance, s.tail_agent, s.lease_expires_at;
        return;
      end if;
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
      if s.closed_count > 0 then
        select g.start_gen, g.end_gen, g.owner_instance, g.owner_agent
          into seg_start, seg_end, own_instance, own_agent
          from commit_segments g
         where g.session_id = p_session and g.end_gen > s.committed
         order by g.start_gen limit 1;
        is_tail := not found;
      end if;
      if is_tail then
        seg_start := s.tail_start;
        seg_end := s.generation;
        own_instance := s.tail_instance;
        own_agent := s.tail_agent;
      end if;
      if own_instance is null or (
        own_instance <> p_instance and not exists (
          select 1 from commit_instances i where i.instance_id = own_instance and i.expires_at > p_now
        )
      ) then
        if p_fallback_agent is null then
          return query select 'no_owner'::text, null::bigint, null::bigint, null::bigint, null::text, null::text,
            null::bigint;
          return;
        end if;
        -- Adopt: the claimer's agent owns the segment from now on, even if this commit fails.
        own_instance := p_instance;
        own_agent := p_fallback_agent;
        if is_tail then
          update commit_sessions set tail_instance = own_instance, tail_agent = own_agent
           where session_id = p_session;
        else
          update commit_segments set owner_instance = own_instance, owner_agent = own_agent
           where session_id = p_session and start_gen = seg_start;
        end if;
      elsif own_instance <> p_instance then
        return query select 'foreign_owner'::text, null::bigint, null::bigint, null::bigint, own_instance,
          own_agent, null::bigint;
        return;
      end if;
      lease := s.lease_seq + 1;
      update commit_sessions
         set lease_seq = lease, lease_id = lease, lease_instance = p_instance,
             lease_expires_at = p_now + p_lease_ms
       where session_id = p_session;
      return query select 'claimed'::text, lease, greatest(seg_start, s.committed + 1), seg_end,
        own_instance, own_agent, p_now + p_lease_ms;
    end $$
  `.execute(db);

  await sql`
    create function engram_commit_complete(p_session text, p_lease_id bigint, p_end bigint, p_async boolean)
    returns text language plpgsql as $$
    declare
      s commit_sessions%rowtype;
      c bigint;
      removed integer;
    begin
      if p_async then
        perform set_config('synchronous_commit', 'off', true);
      end if;
      -- Common case, one statement: no closed segments, only the tail to trim or clear.
      -- Every expression reads the locked row itself (t), never a snapshot subquery.
      update commit_sessions t
         set committed = greatest(t.committed, least(p_end, t.generation)),
             lease_id = null, lease_instance = null, lease_expires_at = null,
             tail_start = case when t.generation <= greatest(t.committed, p_end) then null
                               else greatest(t.tail_start, greatest(t.committed, p_end) + 1) end,
             tail_instance = case when t.generation <= greatest(t.committed, p_end) then null
                                  else t.tail_instance end,
             tail_agent = case when t.generation <= greatest(t.committed, p_end) then null else t.tail_agent end
       where t.session_id = p_session and t.lease_id = p_lease_id and t.closed_count = 0
      returning t.* into s;
      if found then
        return case when s.generation > s.committed then 'dirty' else 'clean' end;
      end if;
      select * into s from commit_sessions where session_id = p_session for update;
      if not found or s.lease_id is distinct from p_lease_id then
        return 'lost';
      end if;
      c := greatest(s.committed, least(p_end, s.generation));
      -- Compare-and-clear: only generations up to the captured end; later ones stay.
      delete from commit_segments where session_id = p_session and end_gen <= c;
      get diagnostics removed = row_count;
      update commit_segments set start_gen = c + 1 where session_id = p_session and start_gen <= c;
      update commit_sessions
         set committed = c, lease_id = null, lease_instance = null, lease_expires_at = null,
             closed_count = s.closed_count - removed,
             tail_start = case when s.generation <= c then null else greatest(s.tail_start, c + 1) end,
             tail_instance = case when s.generation <= c then null else s.tail_instance end,
             tail_agent = case when s.generation <= c then null else s.tail_agent end
       where session_id = p_session;
      return case when s.generation > c then 'dirty' else 'clean' end;
    end $$
  `.execute(db);

  await sql`
    create function engram_commit_release(p_session text, p_lease_id bigint, p_async boolean)
    returns boolean language plpgsql as $$
    begin
      if p_async then
        perform set_config('synchronous_commit', 'off', true);
      end if;
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
      if p_async then
        perform set_config('synchronous_commit', 'off', true);
      end if;
      update commit_sessions set lease_expires_at = p_now + p_lease_ms
       where session_id = p_session and lease_id = p_lease_id;
      return found;
    end $$
  `.execute(db);

  await upBatches(db);
}

async function upBatches(db: Kysely<unknown>): Promise<void> {
  // Batched forms: one round trip and one transaction (one WAL flush) for many operations, used by
  // the ledger when calls pile up behind an in-flight query. Rows are processed in session-id order
  // (stable, so one session's operations keep their order): every transaction that locks several
  // session rows takes them in the same order, so batches of different processes cannot deadlock.
  await sql`
    create function engram_commit_mark_batch(p_sessions text[], p_instances text[], p_agents text[])
    returns table (o_ord bigint, o_generation bigint) language plpgsql as $$
    declare
      r record;
    begin
      for r in
        select u.ord, u.s, u.i, u.a
          from unnest(p_sessions, p_instances, p_agents) with ordinality as u(s, i, a, ord)
         order by u.s, u.ord
      loop
        o_ord := r.ord;
        o_generation := engram_commit_mark(r.s, r.i, r.a);
        return next;
      end loop;
    end $$
  `.execute(db);

  await sql`
    create function engram_commit_claim_batch(
      p_sessions text[], p_instances text[], p_fallback_agents text[], p_lease_ms bigint[], p_now bigint,
      p_async boolean
    )
    returns table (
      o_ord bigint, o_status text, o_lease_id bigint, o_start bigint, o_end bigint,
      o_owner_instance text, o_owner_agent text, o_expires_at bigint
    ) language plpgsql as $$
    declare
      r record;
      c record;
    begin
      for r in
        select u.ord, u.s, u.i, u.f, u.l
          from unnest(p_sessions, p_instances, p_fallback_agents, p_lease_ms) with ordinality as u(s, i, f, l, ord)
         order by u.s, u.ord
      loop
        select * into c from engram_commit_claim(r.s, r.i, r.f, r.l, p_now, p_async);
        o_ord := r.ord;
        o_status := c.o_status;
        o_lease_id := c.o_lease_id;
        o_start := c.o_start;
        o_end := c.o_end;
        o_owner_instance := c.o_owner_instance;
        o_owner_agent := c.o_owner_agent;
        o_expires_at := c.o_expires_at;
        return next;
      end loop;
    end $$
  `.execute(db);

  await sql`
    create function engram_commit_complete_batch(
      p_sessions text[], p_lease_ids bigint[], p_ends bigint[], p_async boolean
    )
    returns table (o_ord bigint, o_result text) language plpgsql as $$
    declare
      r record;
    begin
      for r in
        select u.ord, u.s, u.l, u.e
          from unnest(p_sessions, p_lease_ids, p_ends) with ordinality as u(s, l, e, ord)
         order by u.s, u.ord
      loop
        o_ord := r.ord;
        o_result := engram_commit_complete(r.s, r.l, r.e, p_async);
        return next;
      end loop;
    end $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists engram_commit_complete_batch(text[], bigint[], bigint[], boolean)`.execute(
    db,
  );
  await sql`drop function if exists engram_commit_claim_batch(text[], text[], text[], bigint[], bigint, boolean)`.execute(
    db,
  );
  await sql`drop function if exists engram_commit_mark_batch(text[], text[], text[])`.execute(db);
  await sql`drop function if exists engram_commit_renew(text, bigint, bigint, bigint, boolean)`.execute(db);
  await sql`drop function if exists engram_commit_release(text, bigint, boolean)`.execute(db);
  await sql`drop function if exists engram_commit_complete(text, bigint, bigint, boolean)`.execute(db);
  await sql`drop function if exists engram_commit_claim(text, text, text, bigint, bigint, boolean)`.execute(
    db,
  );
  await sql`drop function if exists engram_commit_mark(text, text, text)`.execute(db);
  await db.schema.dropTable("commit_instances").execute();
  await db.schema.dropTable("commit_segments").execute();
  await db.schema.dropTable("commit_sessions").execute();
}
