/**
 * Durable commit-lifecycle throughput: MemoryCommitCoordinator over PostgresCommitLedger with 1 and 32
 * concurrent clients (each on its own sessions, one shared pool). Two cycle shapes:
 * - "turn": markTurnCompleted + commitSessionMemory (mark, claim, agent, complete: 3 round trips,
 *   2 durable commits; the claim is written with synchronous_commit off);
 * - "lifecycle": registerAgent + 5 x markTurnCompleted + commitSessionMemory (7 round trips).
 * Each twice: completions durable (default) and completions with synchronous_commit off
 * (`asyncCompletions`; turns stay durable). Targets (turn cycle, Postgres): >= 1.4k/s at 1 client,
 * >= 4k/s at 32. Postgres only when DATABASE_URL is set; PGlite (in memory) for reference.
 *
 * On Postgres, right before each turn-cycle figure, it runs pgbench's durable single-row INSERT at the
 * same client count on the same server (TARGETS.md's reference) and prints the figure as a ratio to it (`commit-ledger.vs-pgbench`,
 * goal >= 0.5). `ENGRAM_BENCH_PGBENCH_SECONDS` sets pgbench's duration (default 4; TARGETS.md uses 12).
 */
import { benchThroughput, pgbenchReference, ratioTo, report } from "@engram/bench";
import { type CommittableAgent, MemoryCommitCoordinator } from "@engram/core";
import { PostgresCommitLedger } from "../src/commit-ledger/postgres-commit-ledger.js";
import { createTestDatabase } from "../src/testing/create-test-database.js";
import { testBackends } from "../src/testing/test-backends.js";

const agent: CommittableAgent = { commitMemorySession() {} };

async function inParallel(
  total: number,
  clients: number,
  task: (client: number, i: number) => Promise<unknown>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (next < total) await task(client, next++);
    }),
  );
}

const backends = testBackends();
// Without the Postgres lane the reference lines say why there is none.
if (!backends.some((b) => b.name === "postgres")) pgbenchReference({ url: undefined, clients: [1, 32] });

for (const backend of backends) {
  const clientCounts = backend.name === "postgres" ? [1, 32] : [1];
  const database = await createTestDatabase(backend, { maxConnections: 36 });
  try {
    for (const asyncCompletions of [false, true]) {
      const coordinator = new MemoryCommitCoordinator({
        ledger: new PostgresCommitLedger(database.db, { asyncCompletions }),
      });
      for (const clients of clientCounts) {
        const cycles = backend.name === "postgres" ? (clients === 1 ? 300 : 3_000) : 300;
        const durability = asyncCompletions ? "durable-turns" : "durable-turns+completions";
        const extra = { backend: backend.name, clients, durability, unit: "cycles/s" };
        // The reference right before the figure it divides: on a shared machine the load moves within
        // a minute, and a reference from the start of the run would skew the ratio.
        const reference =
          backend.name === "postgres"
            ? pgbenchReference({ url: backend.url, clients: [clients] })[0]
            : undefined;
        const turn = await benchThroughput({
          name: "commit-ledger.turn-cycle",
          opsPerRun: cycles,
          runs: 5,
          run: () =>
            inParallel(cycles, clients, async (client, i) => {
              const sessionId = `c${clients}-${asyncCompletions}-${client}-${i % 50}`;
              coordinator.registerAgent(sessionId, agent);
              await coordinator.markTurnCompleted(sessionId);
              if (!(await coordinator.commitSessionMemory(sessionId)))
                throw new Error(`no commit for ${sessionId}`);
            }),
          extra: {
            ...extra,
            target: backend.name === "postgres" ? (clients === 1 ? 1_400 : 4_000) : undefined,
          },
        });
        if (backend.name === "postgres") {
          report({
            bench: "commit-ledger.vs-pgbench",
            clients,
            durability,
            cyclesPerSec: turn.opsPerSec,
            pgbenchTps: reference?.tps ?? null,
            ratio: ratioTo(turn.opsPerSec, reference),
            goal: 0.5,
          });
        }
        const lifecycles = Math.max(50, Math.floor(cycles / 3));
        await benchThroughput({
          name: "commit-ledger.lifecycle-cycle",
          opsPerRun: lifecycles,
          runs: 5,
          run: () =>
            inParallel(lifecycles, clients, async (client, i) => {
              const sessionId = `l${clients}-${asyncCompletions}-${client}-${i % 50}`;
              coordinator.registerAgent(sessionId, agent);
              for (let t = 0; t < 5; t++) await coordinator.markTurnCompleted(sessionId);
              if (!(await coordinator.commitSessionMemory(sessionId)))
                throw new Error(`no commit for ${sessionId}`);
            }),
          extra,
        });
      }
      await coordinator.close();
    }
  } finally {
    await database.close();
  }
}
