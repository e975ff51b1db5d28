/**
 * Two real processes (node child processes running `test-support/commit-child.ts` via tsx) drive one
 * Postgres commit ledger at once: random turns on the same sessions, overlapping and waiting commits,
 * failing agents, agent replacements, then each drains and retires. Every successful agent commit
 * logs the generations it committed. Whatever the interleaving, each generation of each session is
 * committed exactly once: never twice (the lease and compare-and-clear), never lost (failed work
 * stays with its owner, a retired process's leftovers are adopted).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/create-test-database.js";
import { testBackends } from "../testing/test-backends.js";
import { PostgresCommitLedger } from "./postgres-commit-ledger.js";

const run = promisify(execFile);
const postgres = testBackends().find((backend) => backend.name === "postgres");

interface LogRow {
  instance_id: string;
  session_id: string;
  start_gen: number;
  end_gen: number;
}

describe.skipIf(!postgres)("PostgresCommitLedger across two processes [postgres]", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    if (postgres === undefined) return;
    database = await createTestDatabase(postgres);
    await sql`
      create table commit_log (
        id bigserial primary key, instance_id text not null, agent text not null,
        session_id text not null, start_gen bigint not null, end_gen bigint not null
      )
    `.execute(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("commits every generation exactly once while two processes race on the same sessions", async () => {
    const url = postgres?.name === "postgres" ? postgres.url : "";
    const child = fileURLToPath(new URL("./test-support/commit-child.ts", import.meta.url));
    const startAt = String(Date.now() + 3_000);
    const outputs = await Promise.all(
      ["proc-a", "proc-b"].map((instanceId, i) =>
        run(
          process.execPath,
          ["--import", "tsx", child, url, database.schema, instanceId, String(101 + i), "400", "6", startAt],
          {
            timeout: 90_000,
            // cwd = the package, so `--import tsx` resolves this package's devDependency.
            cwd: fileURLToPath(new URL("../..", import.meta.url)),
          },
        ),
      ),
    );
    const reports = outputs.map(
      (o) => JSON.parse(o.stdout.trim()) as { instanceId: string; commits: number },
    );
    expect(reports.every((r) => r.commits > 0)).toBe(true);
    console.info(`[commit-ledger processes] ${outputs.map((o) => o.stdout.trim()).join(" ")}`);

    // Both children retired on close: anything left (a head segment the other process owned while it
    // drained) is adoptable now. Commit it here, logging like the children do.
    const ledger = new PostgresCommitLedger(database.db);
    await ledger.heartbeat("parent", 60_000);
    const owner = { instanceId: "parent", agentId: "parent-agent" };
    for (let guard = 0; guard < 1_000; guard++) {
      const dirty = await ledger.dirtySessions({ committableBy: "parent" });
      if (dirty.length === 0) break;
      for (const sessionId of dirty) {
        const claim = await ledger.claimCommit(sessionId, {
          instanceId: "parent",
          fallbackOwner: owner,
          leaseMs: 10_000,
        });
        if (claim.status !== "claimed") continue;
        await sql`
          insert into commit_log (instance_id, agent, session_id, start_gen, end_gen)
          values ('parent', 'parent-agent', ${sessionId}, ${claim.start}, ${claim.end})
        `.execute(database.db);
        expect(await ledger.completeCommit(claim)).not.toBe("lost");
      }
    }
    expect(await ledger.dirtySessions()).toEqual([]);
    const adopted = await sql<{
      n: number;
    }>`select count(*)::int as n from commit_log where instance_id = 'parent'`.execute(database.db);
    console.info(`[commit-ledger processes] segments adopted after both retired: ${adopted.rows[0]?.n}`);

    const sessions = await database.db
      .selectFrom("commit_sessions")
      .select(["session_id", "generation"])
      .execute();
    expect(sessions.length).toBe(6);
    const { rows } =
      await sql<LogRow>`select instance_id, session_id, start_gen, end_gen from commit_log`.execute(
        database.db,
      );
    const byInstance = new Set(rows.filter((r) => r.instance_id !== "parent").map((r) => r.instance_id));
    expect([...byInstance].sort()).toEqual(["proc-a", "proc-b"]);
    for (const { session_id, generation } of sessions) {
      const counts = new Array<number>(Number(generation)).fill(0);
      for (const row of rows) {
        if (row.session_id !== session_id) continue;
        for (let g = Number(row.start_gen); g <= Number(row.end_gen); g++)
          counts[g - 1] = (counts[g - 1] ?? 0) + 1;
      }
      expect(counts, session_id).toEqual(new Array(Number(generation)).fill(1));
    }
    expect(await database.db.selectFrom("commit_segments").selectAll().execute()).toEqual([]);
  }, 120_000);

  it("lets a live process adopt the dirty generations of a crashed one only after its heartbeat lapses", async () => {
    const url = postgres?.name === "postgres" ? postgres.url : "";
    await sql`truncate commit_sessions, commit_segments, commit_instances, commit_log`.execute(database.db);
    const child = fileURLToPath(new URL("./test-support/commit-child.ts", import.meta.url));
    const output = await run(
      process.execPath,
      [
        "--import",
        "tsx",
        child,
        url,
        database.schema,
        "proc-crash",
        "7",
        "120",
        "4",
        String(Date.now()),
        "crash",
      ],
      { timeout: 60_000, cwd: fileURLToPath(new URL("../..", import.meta.url)) },
    );
    const report = JSON.parse(output.stdout.trim()) as { dirty: string[] };
    expect(report.dirty.length).toBeGreaterThan(0);
    const ledger = new PostgresCommitLedger(database.db);
    await ledger.heartbeat("heir", 60_000);
    const owner = { instanceId: "heir", agentId: "heir-agent" };
    // The crashed process never retired: until its TTL lapses its segments are not ours to take.
    const early = await ledger.claimCommit(report.dirty[0]!, {
      instanceId: "heir",
      fallbackOwner: owner,
      leaseMs: 10_000,
    });
    if (early.status === "claimed") {
      // Only possible for an ownerless head segment; give it back untouched.
      expect(early.owner).toEqual(owner);
      await ledger.releaseCommit(early);
    } else {
      expect(early.status).toBe("foreign_owner");
    }
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    let adopted = 0;
    for (let guard = 0; guard < 1_000; guard++) {
      const dirty = await ledger.dirtySessions({ committableBy: "heir" });
      if (dirty.length === 0) break;
      for (const sessionId of dirty) {
        const claim = await ledger.claimCommit(sessionId, {
          instanceId: "heir",
          fallbackOwner: owner,
          leaseMs: 10_000,
        });
        if (claim.status !== "claimed") continue;
        await sql`
          insert into commit_log (instance_id, agent, session_id, start_gen, end_gen)
          values ('heir', 'heir-agent', ${sessionId}, ${claim.start}, ${claim.end})
        `.execute(database.db);
        expect(await ledger.completeCommit(claim)).not.toBe("lost");
        adopted++;
      }
    }
    expect(adopted).toBeGreaterThan(0);
    expect(await ledger.dirtySessions()).toEqual([]);
    const sessions = await database.db
      .selectFrom("commit_sessions")
      .select(["session_id", "generation"])
      .execute();
    const { rows } =
      await sql<LogRow>`select instance_id, session_id, start_gen, end_gen from commit_log`.execute(
        database.db,
      );
    for (const { session_id, generation } of sessions) {
      const counts = new Array<number>(Number(generation)).fill(0);
      for (const row of rows) {
        if (row.session_id !== session_id) continue;
        for (let g = Number(row.start_gen); g <= Number(row.end_gen); g++)
          counts[g - 1] = (counts[g - 1] ?? 0) + 1;
      }
      expect(counts, session_id).toEqual(new Array(Number(generation)).fill(1));
    }
  }, 120_000);
});
