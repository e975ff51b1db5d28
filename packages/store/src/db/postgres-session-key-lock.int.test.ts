/**
 * PostgresSessionKeyLock (advisory locks on one dedicated connection per lock): the conformance suite
 * with every "process" a lock of its own (its own connection), plus what only a real server shows:
 * a holder whose process is killed or whose connection is terminated releases its keys. On PGlite,
 * `Database.sessionKeyLock()` is the in-process lock, which runs the conformance suite alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { isEngramError, type SessionKeyLock } from "@engram/core";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/create-test-database.js";
import { testBackends } from "../testing/test-backends.js";
import { PostgresSessionKeyLock } from "./postgres-session-key-lock.js";
import { sessionKeyLockConformance } from "./session-key-lock.conformance.js";

const backends = testBackends();

function deferred(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
let database: TestDatabase | undefined;

for (const backend of backends) {
  let shared: SessionKeyLock | undefined;
  let own: TestDatabase | undefined;
  sessionKeyLockConformance({
    name: `Database.sessionKeyLock() [${backend.name}]`,
    beforeAll: async () => {
      own = await createTestDatabase(backend, { migrate: false });
    },
    // Postgres: every call is another connection, as another process would have. PGlite: one process.
    createLock: () => {
      if (backend.name === "postgres") return own!.sessionKeyLock();
      shared ??= own!.sessionKeyLock();
      return shared;
    },
    reset: () => {
      shared = undefined;
    },
    processes: 4,
  });
  afterAll(async () => {
    await own?.close();
  });
}

const postgres = backends.find((backend) => backend.name === "postgres");

describe.skipIf(!postgres)("PostgresSessionKeyLock on a real server", () => {
  beforeAll(async () => {
    database = await createTestDatabase(postgres!, { migrate: false });
  });
  afterAll(async () => {
    await database?.close();
  });
  const url = () => (postgres as { url: string }).url;
  const key = () => `k-${Math.random().toString(36).slice(2)}`;

  it("frees the keys of a holder whose process is killed (its connection closes)", async () => {
    const keyName = key();
    const child: ChildProcess = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./test-support/key-lock-holder-child.ts", import.meta.url)),
        url(),
        database!.schema,
        keyName,
      ],
      // cwd = the package, so `--import tsx` resolves this package's devDependency.
      { cwd: fileURLToPath(new URL("../..", import.meta.url)), stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = once(child, "exit");
    try {
      const [line] = (await once(child.stdout!, "data")) as [Buffer];
      expect(line.toString().trim()).toBe("held");
      const waiter = database!.sessionKeyLock();
      let entered = false;
      const attempt = waiter.withLock(keyName, async () => {
        entered = true;
        return "taken over";
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(entered).toBe(false);
      child.kill("SIGKILL");
      expect(await attempt).toBe("taken over");
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
  }, 30_000);

  it("reports SESSION_KEY_LOCK_LOST to a holder whose connection is terminated, and reconnects", async () => {
    const keyName = key();
    const holder = new PostgresSessionKeyLock({ url: url(), namespace: database!.schema });
    const other = database!.sessionKeyLock();
    const entered = deferred();
    const release = deferred();
    let aborted = false;
    const holding = holder.withLock(keyName, async (signal) => {
      signal.addEventListener("abort", () => {
        aborted = true;
      });
      entered.open();
      await release.promise;
      return "finished anyway";
    });
    await entered.promise;
    let otherEntered = false;
    const takeover = other.withLock(keyName, async () => {
      otherEntered = true;
      return "taken over";
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(otherEntered).toBe(false);
    // The server ends the holder's connection (as a network drop or a DBA would).
    const { rows } = await sql<{ ended: boolean }>`
      select pg_terminate_backend(l.pid) as ended
        from pg_locks l
       where l.locktype = 'advisory' and l.database = (select oid from pg_database where datname = current_database())
         and l.objsubid = 2
         and l.classid::int8 = (hashtext(${`engram:session-key:${database!.schema}`})::int8 & 4294967295)
         and l.objid::int8 = (hashtext(${keyName})::int8 & 4294967295)
         and l.granted
    `.execute(database!.db);
    expect(rows).toEqual([{ ended: true }]);
    await expect.poll(() => aborted, { timeout: 5_000 }).toBe(true);
    // The server freed the key with the connection: another process gets it while the holder still
    // runs, which is exactly why the holder must learn that its outcome is not trusted.
    expect(await takeover).toBe("taken over");
    release.open();
    const lost = await holding.catch((error: unknown) => error);
    expect(isEngramError(lost) && lost.code).toBe("SESSION_KEY_LOCK_LOST");
    // The holder's lock works again, on a new connection.
    expect(await holder.withLock(keyName, async () => "reconnected")).toBe("reconnected");
    await holder.close();
  });

  it("never lets two of many processes hold one key at once, under heavy contention (8 connections x 50 turns)", async () => {
    const keyName = key();
    const locks = Array.from({ length: 8 }, () => database!.sessionKeyLock());
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    const start = deferred();
    const turns = locks.flatMap((lock, p) =>
      Array.from({ length: 50 }, async (_, i) => {
        await start.promise;
        return lock.withLock(keyName, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          // A real round trip inside the critical section, as a turn's queries are.
          await sql`select 1`.execute(database!.db);
          order.push(p * 1000 + i);
          inside--;
        });
      }),
    );
    start.open();
    await Promise.all(turns);
    expect(maxInside).toBe(1);
    expect(new Set(order).size).toBe(400);
    // Within one process, turns of a key keep their call order.
    for (let p = 0; p < 8; p++) {
      const mine = order.filter((id) => Math.floor(id / 1000) === p);
      expect(mine).toEqual([...mine].sort((x, y) => x - y));
    }
    await Promise.all(locks.map((lock) => lock.close()));
  }, 60_000);

  // Issue 18: the lock statements of many turns queued one behind another on the lock's single
  // connection (two round trips per turn, in series); now whatever queues behind the statement in
  // flight goes out as one statement. Many keys at once in every process exercise those batches,
  // including a key's unlock and its next local holder's try-lock in the same statement.
  it("keeps every key exclusive and leaves none held when many keys' turns run at once in each process", async () => {
    const keys = Array.from({ length: 16 }, () => key());
    const locks = Array.from({ length: 3 }, () => database!.sessionKeyLock());
    const inside = new Map<string, number>();
    let overlaps = 0;
    let turnsRun = 0;
    const start = deferred();
    const turns = locks.flatMap((lock) =>
      keys.flatMap((k) =>
        Array.from({ length: 6 }, async () => {
          await start.promise;
          return lock.withLock(k, async () => {
            const now = (inside.get(k) ?? 0) + 1;
            inside.set(k, now);
            if (now > 1) overlaps++;
            await sql`select 1`.execute(database!.db);
            turnsRun++;
            inside.set(k, (inside.get(k) ?? 1) - 1);
          });
        }),
      ),
    );
    start.open();
    await Promise.all(turns);
    expect(overlaps).toBe(0);
    expect(turnsRun).toBe(3 * 16 * 6);
    // Nothing stays held while those processes live: another one takes every key at once.
    const other = database!.sessionKeyLock();
    const taken = await Promise.all(
      keys.map((k) =>
        Promise.race([
          other.withLock(k, async () => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000)),
        ]),
      ),
    );
    expect(taken.every(Boolean)).toBe(true);
    await Promise.all([...locks, other].map((lock) => lock.close()));
  }, 60_000);
});
