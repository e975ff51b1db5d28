/**
 * The OpenViking path over real HTTP: the provider against the stand-in server, durable on Postgres
 * (DATABASE_URL) and on PGlite.
 * - add-message throughput: `syncTurn` (one `messages/batch` of 2 messages per turn) over 100 sessions;
 * - commit phase-1 latency: the `commit` call returns once the buffer is snapshotted and the task
 *   exists (phase 2 runs in the background);
 * - search latency at 10k extracted memories: `prefetch` (`search/search`, ranking, budget).
 */

import { randomBytes } from "node:crypto";
import { benchLatency, benchThroughput } from "@engram/bench";
import type { CompletedTurn } from "@engram/core";
import { createDatabase, type Database } from "@engram/store";
import {
  memoryUri,
  PostgresMemoryRecordStore,
  startOpenVikingServer,
} from "@engram/testkit/openviking-server";
import { sql } from "kysely";
import { OpenVikingMemoryProvider } from "../src/index.js";

const TURNS = 400;
const SESSIONS = 100;
const MEMORIES = 10_000;
const turn = (i: number): CompletedTurn => ({
  user: `Turn ${i}: could you compare the two deployment plans and list the risks of each one?`,
  assistant: "Plan A is cheaper; plan B rolls back faster. Risks: A has a single region, B costs more.",
  timestamp: 1_700_000_000_000 + i,
});
const TOPICS = ["coffee", "deploy", "tabs", "oslo", "python", "rust", "garden", "music", "travel", "books"];

// `@engram/store/testing` imports vitest, so the bench opens its databases itself: an in-memory PGlite,
// and on Postgres a throwaway schema.
const backends: Array<{ name: string; open: () => Promise<Database> }> = [
  { name: "pglite", open: () => createDatabase({ memory: true }) },
];
const url = process.env.DATABASE_URL;
if (url) {
  const schema = `bench_ov_${randomBytes(6).toString("hex")}`;
  backends.push({ name: "postgres", open: () => createDatabase({ url, schema }) });
}

for (const backend of backends) {
  const database = await backend.open();
  const server = await startOpenVikingServer({ db: database.db });
  try {
    const provider = new OpenVikingMemoryProvider({ baseUrl: server.url, timeoutMs: 30_000 });
    provider.initialize({ sessionId: "bench-0", platform: "cli", agentContext: "primary", extra: {} });
    let n = 0;
    await benchThroughput({
      name: "openviking.add-message",
      opsPerRun: TURNS * 2,
      runs: 3,
      run: async () => {
        await Promise.all(
          Array.from({ length: TURNS }, () => {
            const i = n++;
            return provider.syncTurn(turn(i), { sessionId: `bench-${i % SESSIONS}` });
          }),
        );
      },
      extra: {
        backend: backend.name,
        unit: "messages/s",
        sessions: SESSIONS,
        via: "syncTurn -> messages/batch",
      },
    });

    let c = 0;
    await benchLatency({
      name: "openviking.commit-phase1",
      samples: 60,
      warmup: 5,
      selfTimed: true,
      sample: async () => {
        const id = `commit-${c++}`;
        await server.idle(); // earlier phase 2s never overlap the timed call
        await provider.client.post(`/api/v1/sessions/${id}/messages/batch`, {
          messages: [
            { role: "user", content: "I prefer dark roast coffee." },
            { role: "assistant", content: "Noted." },
          ],
        });
        const started = performance.now();
        await provider.client.post(`/api/v1/sessions/${id}/commit`, {});
        return performance.now() - started;
      },
      extra: { backend: backend.name, via: "HTTP commit, phase 2 in the background" },
    });
    await server.idle();

    const records = new PostgresMemoryRecordStore(database.db);
    const now = Date.now();
    for (let start = 0; start < MEMORIES; start += 1_000) {
      await records.add(
        Array.from({ length: 1_000 }, (_, k) => {
          const i = start + k;
          const content = `Memory ${i}: the user mentioned ${TOPICS[i % TOPICS.length]} and ${TOPICS[(i * 7) % TOPICS.length]} on day ${i % 365}.`;
          return {
            uri: memoryUri("default", "events", `m${i}`),
            category: "events",
            content,
            abstract: content,
            sessionId: "seed",
            createdAt: now,
          };
        }),
      );
    }
    await benchLatency({
      name: "openviking.search",
      samples: 40,
      warmup: 3,
      sample: (i: number) =>
        provider.prefetch(`what did I say about ${TOPICS[i % TOPICS.length]}`, { sessionId: "q" }),
      extra: { backend: backend.name, memories: MEMORIES, via: "prefetch -> search/search" },
    });
    await provider.shutdown();
  } finally {
    await server.close();
    if (database.backend === "postgres") {
      // The schema name is generated above from hex digits.
      await sql.raw(`drop schema if exists ${database.schema} cascade`).execute(database.db);
    }
    await database.close();
  }
}
