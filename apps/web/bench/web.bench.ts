/**
 * Web server figures over real HTTP:
 * - `GET /api/sessions` p50/p95 with 10k web sessions in the database (target p95 < 20 ms);
 * - Server-Sent Events fan-out: 100 clients on `/api/events`, time from a gateway-side transcript
 *   write until every client has the change (includes the change feed's 50 ms check interval).
 * On an in-memory PGlite, and on PostgreSQL (a throwaway schema) when DATABASE_URL is set.
 */
import { randomBytes } from "node:crypto";
import { benchLatency, percentile, report } from "@engram/bench";
import {
  createDatabase,
  type Database,
  migrateStore,
  PostgresTranscriptStore,
  PostgresWebSessionStore,
} from "@engram/store";
import { sql } from "kysely";
import { createWebApp } from "../src/app/create-web-app.js";
import { parseWebConfig } from "../src/config/web-config.js";
import { WebClient } from "../src/test-support/web-client.js";

const SESSIONS = 10_000;
const CLIENTS = 100;

// `@engram/store/testing` imports vitest, so the bench opens its databases itself.
const backends: Array<{ name: string; open: () => Promise<Database> }> = [
  { name: "pglite", open: () => createDatabase({ memory: true }) },
];
const url = process.env.DATABASE_URL;
if (url) {
  const schema = `bench_web_${randomBytes(6).toString("hex")}`;
  backends.push({ name: "postgres", open: () => createDatabase({ url, schema, maxConnections: 16 }) });
}

for (const backend of backends) {
  const database = await backend.open();
  await migrateStore(database.db);
  const store = new PostgresWebSessionStore(database.db);
  const seedStart = performance.now();
  for (let i = 0; i < SESSIONS; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, k) => store.create({ title: `Session ${i + k}: plans and notes` })),
    );
  }
  report({
    bench: "web.seed",
    backend: backend.name,
    sessions: SESSIONS,
    seconds: Math.round((performance.now() - seedStart) / 100) / 10,
  });
  const start = async (messagingPollMs: number) => {
    const app = createWebApp({ config: parseWebConfig({}), db: database.db, messagingPollMs });
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    const client = new WebClient(`http://127.0.0.1:${address.port}`);
    await client.init();
    return { app, client };
  };
  // The list with the default change-feed interval (1 s), as served.
  let { app, client } = await start(1_000);
  try {
    await benchLatency({
      name: "web.sessions.list",
      samples: 200,
      warmup: 20,
      sample: async (i) => {
        const page = await client.request("GET", `/api/sessions?limit=50&offset=${(i % 10) * 50}`);
        if (page.json.sessions.length !== 50) throw new Error("short page");
      },
      extra: { backend: backend.name, sessions: SESSIONS, pageSize: 50, target: "p95 < 20 ms" },
    });

    await app.close({ drainDeadlineMs: 5_000 });
    // Fan-out with a 50 ms change feed, so the figure shows the SSE cost rather than the interval.
    ({ app, client } = await start(50));
    const transcripts = new PostgresTranscriptStore(database.db);
    await transcripts.createSession({
      id: "bench_tg",
      source: "telegram",
      sessionKey: "agent:main:telegram:dm:1",
      chatType: "dm",
      userId: "1",
      chatId: "1",
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const clients = Array.from({ length: CLIENTS }, () => new WebClient(client.base));
    const latencies: number[] = [];
    for (let round = 0; round < 10; round++) {
      const aborts = clients.map(() => new AbortController());
      const received: Promise<number>[] = clients.map((c, i) =>
        c
          .events("/api/events", (e) => e.event === "messaging", aborts[i]!.signal)
          .then(() => performance.now()),
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // every client is connected
      const written = performance.now();
      await transcripts.appendMessage("bench_tg", { role: "user", content: `round ${round}` });
      const times = await Promise.all(received);
      latencies.push(Math.max(...times) - written);
      for (const abort of aborts) abort.abort();
    }
    latencies.sort((a, b) => a - b);
    report({
      bench: "web.events.fanout",
      backend: backend.name,
      clients: CLIENTS,
      rounds: latencies.length,
      allDeliveredP50Ms: Math.round(percentile(latencies, 50)),
      allDeliveredMaxMs: Math.round(latencies.at(-1)!),
      note: "write -> change feed (50 ms checks) -> 100 SSE clients",
    });
  } finally {
    await app.close({ drainDeadlineMs: 5_000 });
    if (database.backend === "postgres") {
      // The schema name is generated above from hex digits.
      await sql.raw(`drop schema if exists ${database.schema} cascade`).execute(database.db);
    }
    await database.close();
  }
}
