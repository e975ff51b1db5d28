/**
 * Transcript store throughput and latency on each backend (PGlite always, Postgres when DATABASE_URL
 * is set): appends per second into one session and spread over 1k sessions, session-list latency with
 * 10k sessions, and the process RSS afterwards. Figures are machine-dependent; compare like with like.
 */
import { benchLatency, benchThroughput, rssMiB } from "@engram/bench";
import { sql } from "kysely";
import { createTestDatabase } from "../src/testing/create-test-database.js";
import { testBackends } from "../src/testing/test-backends.js";
import { truncateAll } from "../src/testing/truncate-all.js";
import { PostgresTranscriptStore } from "../src/transcripts/postgres-transcript-store.js";

const APPENDS_PER_RUN = 200;
const CONCURRENCY = 8;
const SPREAD_SESSIONS = 1000;
const LIST_SESSIONS = 10_000;
const LIST_USERS = 100;

async function inParallel(total: number, concurrency: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

for (const backend of testBackends()) {
  const database = await createTestDatabase(backend, { maxConnections: CONCURRENCY + 2 });
  const store = new PostgresTranscriptStore(database.db);
  const extra = { backend: backend.name, concurrency: CONCURRENCY };
  try {
    await store.createSession({ id: "one", source: "bench" });
    let n = 0;
    await benchThroughput({
      name: "transcripts.append.one-session",
      opsPerRun: APPENDS_PER_RUN,
      runs: 5,
      extra,
      run: () =>
        inParallel(APPENDS_PER_RUN, CONCURRENCY, () =>
          store.appendMessage("one", {
            role: n % 2 ? "assistant" : "user",
            content: `message ${n++} with a little text to index for search`,
            usage: { inputTokens: 10, outputTokens: 5 },
          }),
        ),
    });

    await sql`insert into sessions (id, source) select 'spread-' || g, 'bench' from generate_series(0, ${SPREAD_SESSIONS - 1}) g`.execute(
      database.db,
    );
    await benchThroughput({
      name: "transcripts.append.spread-1k-sessions",
      opsPerRun: APPENDS_PER_RUN,
      runs: 5,
      extra: { ...extra, sessions: SPREAD_SESSIONS },
      run: () =>
        inParallel(APPENDS_PER_RUN, CONCURRENCY, () =>
          store.appendMessage(`spread-${(n * 7919) % SPREAD_SESSIONS}`, {
            role: "user",
            content: `message ${n++} spread over many sessions`,
          }),
        ),
    });

    // 10k sessions over 100 users, two messages each, seeded in bulk.
    await truncateAll(database.db);
    await sql`
      insert into sessions (id, source, user_id, title, updated_at)
      select 'list-' || g, 'telegram', 'user-' || (g % ${LIST_USERS}), 'Session ' || g,
             now() - (g || ' seconds')::interval
      from generate_series(0, ${LIST_SESSIONS - 1}) g
    `.execute(database.db);
    await sql`
      insert into messages (session_id, role, content)
      select 'list-' || g, r.role, repeat(r.role || ' text ', 200)
      from generate_series(0, ${LIST_SESSIONS - 1}) g
      cross join (values ('user'), ('assistant')) as r(role)
    `.execute(database.db);
    await sql`analyze`.execute(database.db);

    await benchLatency({
      name: "transcripts.list.first-page-of-10k",
      samples: 200,
      extra: { backend: backend.name, sessions: LIST_SESSIONS, pageSize: 50 },
      sample: () => store.listSessions({ scope: {}, limit: 50 }),
    });
    await benchLatency({
      name: "transcripts.list.one-user-of-10k",
      samples: 200,
      extra: { backend: backend.name, sessions: LIST_SESSIONS, users: LIST_USERS, pageSize: 50 },
      sample: (i) =>
        store.listSessions({ scope: { source: "telegram", userId: `user-${i % LIST_USERS}` }, limit: 50 }),
    });
    await benchLatency({
      name: "transcripts.search.scoped-of-10k",
      samples: 100,
      extra: { backend: backend.name, sessions: LIST_SESSIONS },
      sample: (i) =>
        store.searchMessages({
          query: "assistant text",
          scope: { source: "telegram", userId: `user-${i % LIST_USERS}` },
        }),
    });
    console.log(
      `BENCH ${JSON.stringify({ bench: "transcripts.rss", backend: backend.name, rssMiB: rssMiB() })}`,
    );
  } finally {
    await database.close();
  }
}
