/**
 * Routing index and web session store on each backend (PGlite always, Postgres when DATABASE_URL is
 * set): routing lookups and flag patches per second over 10k keys, the CAS switch under contention,
 * and the web sidebar (first page, one profile, a deep page) with 10k web sessions whose transcripts
 * hold ~8 KiB of text each — the listing must not read them. Target: list p95 < 20 ms.
 * Also: opening a session through the cache (hit) versus from the database (miss).
 */
import { benchLatency, benchThroughput, rssMiB } from "@engram/bench";
import { sql } from "kysely";
import { PostgresRoutingIndex } from "../src/routing-index/postgres-routing-index.js";
import { createTestDatabase } from "../src/testing/create-test-database.js";
import { testBackends } from "../src/testing/test-backends.js";
import { CachedWebSessionStore } from "../src/web-sessions/cached-web-session-store.js";
import { PostgresWebSessionStore } from "../src/web-sessions/postgres-web-session-store.js";

const KEYS = 10_000;
const LOOKUPS_PER_RUN = 1000;
const CONCURRENCY = 8;
const WEB_SESSIONS = 10_000;
const PROFILES = 10;

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
  const extra = { backend: backend.name, concurrency: CONCURRENCY };
  try {
    // --- routing index -------------------------------------------------------------------------
    const index = new PostgresRoutingIndex(database.db);
    await sql`
      insert into routing_entries (session_key, session_id, created_at, updated_at, platform, chat_type, origin)
      select 'agent:main:telegram:dm:' || g, 'sess-' || g, now(), now() - (g || ' seconds')::interval,
             'telegram', 'dm', jsonb_build_object('platform', 'telegram', 'chat_id', g::text, 'chat_type', 'dm')
      from generate_series(0, ${KEYS - 1}) g
    `.execute(database.db);
    await sql`analyze routing_entries`.execute(database.db);

    let n = 0;
    await benchThroughput({
      name: "routing.get",
      opsPerRun: LOOKUPS_PER_RUN,
      runs: 5,
      extra: { ...extra, keys: KEYS },
      run: () =>
        inParallel(LOOKUPS_PER_RUN, CONCURRENCY, () =>
          index.get(`agent:main:telegram:dm:${(n++ * 7919) % KEYS}`),
        ),
    });
    await benchThroughput({
      name: "routing.patch",
      opsPerRun: LOOKUPS_PER_RUN,
      runs: 5,
      extra: { ...extra, keys: KEYS },
      run: () =>
        inParallel(LOOKUPS_PER_RUN, CONCURRENCY, () =>
          index.patch(`agent:main:telegram:dm:${(n++ * 7919) % KEYS}`, { lastPromptTokens: n }),
        ),
    });
    let round = 0;
    await benchLatency({
      name: "routing.switch.8-racers",
      samples: 100,
      extra: { backend: backend.name, racers: 8 },
      // One sample = 8 routers racing to reset the same key; exactly one wins.
      sample: async () => {
        const key = `agent:main:telegram:dm:${round % KEYS}`;
        const current = await index.get(key);
        const expected = current?.sessionId ?? "none";
        round++;
        await Promise.all(
          Array.from({ length: 8 }, (_, i) => index.switchSession(key, expected, `r${round}-${i}`)),
        );
      },
    });

    // --- web session store ----------------------------------------------------------------------
    // 10k web sessions: a tenth untitled (title derived from the first user message), a few pinned,
    // each with a user and an assistant message of ~4 KiB.
    await sql`
      insert into sessions (id, source, web_visible, title, profile, pinned, message_count, started_at, updated_at)
      select 'web-' || g, 'web', true,
             case when g % 10 = 0 then null else 'Session ' || g end,
             case when g % ${PROFILES} = 0 then null else 'profile-' || (g % ${PROFILES}) end,
             g % 500 = 0, 2, now() - (g || ' minutes')::interval, now() - (g || ' seconds')::interval
      from generate_series(0, ${WEB_SESSIONS - 1}) g
    `.execute(database.db);
    await sql`
      insert into messages (session_id, role, content)
      select 'web-' || g, r.role, repeat(r.role || ' words ', 400)
      from generate_series(0, ${WEB_SESSIONS - 1}) g
      cross join (values ('user'), ('assistant')) as r(role)
    `.execute(database.db);
    await sql`analyze`.execute(database.db);

    const web = new PostgresWebSessionStore(database.db);
    const webExtra = { backend: backend.name, sessions: WEB_SESSIONS, pageSize: 50, targetP95Ms: 20 };
    await benchLatency({
      name: "web.list.first-page-of-10k",
      samples: 200,
      extra: webExtra,
      sample: () => web.list({ limit: 50 }),
    });
    await benchLatency({
      name: "web.list.one-profile-of-10k",
      samples: 200,
      extra: { ...webExtra, profiles: PROFILES },
      sample: (i) =>
        web.list({ limit: 50, profile: i % PROFILES === 0 ? "default" : `profile-${i % PROFILES}` }),
    });
    await benchLatency({
      name: "web.list.page-20-of-10k",
      samples: 100,
      extra: { ...webExtra, offset: 1000 },
      sample: () => web.list({ limit: 50, offset: 1000 }),
    });

    const cache = new CachedWebSessionStore(web, { maxEntries: 64 });
    await benchLatency({
      name: "web.get.from-database",
      samples: 200,
      extra: { backend: backend.name, messagesPerSession: 2, bytesPerSession: 8000 },
      sample: (i) => web.get(`web-${(i * 7919) % WEB_SESSIONS}`),
    });
    for (let i = 0; i < 32; i++) await cache.get(`web-${i}`);
    await benchLatency({
      name: "web.get.cache-hit-revalidated",
      samples: 200,
      extra: { backend: backend.name, cached: 32 },
      sample: (i) => cache.get(`web-${i % 32}`),
    });
    console.log(
      `BENCH ${JSON.stringify({ bench: "routing-and-web.rss", backend: backend.name, rssMiB: rssMiB() })}`,
    );
  } finally {
    await database.close();
  }
}
