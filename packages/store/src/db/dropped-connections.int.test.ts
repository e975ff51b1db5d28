/**
 * Regression, issue 13 item 2: a Postgres connection the server ends (`pg_terminate_backend`, 57P01;
 * a restart; a network drop) made the process exit with "Unhandled 'error' event" whenever the `pg`
 * client had no `error` listener at that moment: a pooled client checked out by Kysely (inside a
 * transaction, between two statements), and the LISTEN connection never came back after a drop.
 *
 * Fix: every pooled client has a listener of its own for its whole life (failures reported once to
 * `onPoolError`), the LISTEN connection and the session-key lock's connection reconnect with a
 * jittered, capped backoff, and every connection carries an `application_name` (which is how these
 * tests find the backends to terminate). Postgres only: PGlite has no server connections.
 */
import { randomBytes } from "node:crypto";
import { isEngramError } from "@engram/core";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testBackends } from "../testing/test-backends.js";
import { isConnectionFailure } from "./connection-failure.js";
import { createDatabase, type Database } from "./database.js";
import { PostgresNotificationListener } from "./postgres-notification-listener.js";
import { PostgresSessionKeyLock } from "./postgres-session-key-lock.js";

const postgres = testBackends().find((backend) => backend.name === "postgres");
if (!postgres) {
  console.info(
    "[store] dropped Postgres connections: skipped, DATABASE_URL is unset (PGlite has no server connections)",
  );
}
/** A server address nothing listens on: connections are refused at once. */
const UNREACHABLE = "postgres://postgres@127.0.0.1:1/none";

describe.skipIf(!postgres)("dropped Postgres connections", () => {
  const url = postgres?.name === "postgres" ? postgres.url : "";
  let admin: Database | undefined;

  beforeAll(async () => {
    admin = await createDatabase({ url, maxConnections: 1, applicationName: "engram-test-admin" });
  });
  afterAll(async () => {
    await admin?.close();
  });

  const uniqueName = () => `t-drop-${randomBytes(4).toString("hex")}`;

  /** Terminates every backend whose application_name is `name`; returns how many it ended. */
  const terminate = async (name: string): Promise<number> => {
    const { rows } = await sql<{ ended: boolean }>`
      select pg_terminate_backend(pid) as ended from pg_stat_activity
       where application_name = ${name} and pid <> pg_backend_pid()
    `.execute(admin!.db);
    return rows.filter((row) => row.ended).length;
  };

  const connections = async (name: string): Promise<number> => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity where application_name = ${name}
    `.execute(admin!.db);
    return rows[0]?.n ?? 0;
  };

  it("keeps the process up when a client checked out inside a transaction loses its connection, reports it once, and the next query succeeds", async () => {
    const name = uniqueName();
    const errors: Error[] = [];
    await using database = await createDatabase({
      url,
      applicationName: name,
      maxConnections: 2,
      onPoolError: (error) => errors.push(error),
    });
    const failed = await database.db
      .transaction()
      .execute(async (trx) => {
        await sql`select 1`.execute(trx);
        expect(await terminate(name)).toBe(1);
        // Idle inside the transaction, still checked out: pg emits "error" on the client. Without a
        // listener of its own, that event ended the process.
        await expect.poll(() => errors.length, { timeout: 5_000 }).toBeGreaterThan(0);
        await sql`select 1`.execute(trx);
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isConnectionFailure(failed)).toBe(true);
    // The client's own listener and, had it been idle in the pool, the pool's: one report per client.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors).toHaveLength(1);
    const { rows } = await sql<{ n: number }>`select 1 as n`.execute(database.db);
    expect(rows).toEqual([{ n: 1 }]);
  });

  it("tells a dropped connection from a bad statement", async () => {
    const name = uniqueName();
    await using database = await createDatabase({ url, applicationName: name, maxConnections: 1 });
    const bad = await sql`select 1 / 0`.execute(database.db).catch((error: unknown) => error);
    expect(isConnectionFailure(bad)).toBe(false);
    const running = sql`select pg_sleep(10)`.execute(database.db).catch((error: unknown) => error);
    await expect.poll(() => connections(name)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await terminate(name)).toBe(1);
    expect(isConnectionFailure(await running)).toBe(true);
    expect(isConnectionFailure(new Error("wrapped", { cause: await running }))).toBe(true);
  });

  it("listens again after its connection is terminated, round after round, and stops for good when closed", async () => {
    const name = uniqueName();
    const channel = `drop_${randomBytes(4).toString("hex")}`;
    const errors: Error[] = [];
    await using database = await createDatabase({
      url,
      applicationName: name,
      onPoolError: (error) => errors.push(error),
    });
    const heard: string[] = [];
    const stop = await database.listen(channel, (payload) => heard.push(payload));
    for (let round = 0; round < 5; round++) {
      expect(await terminate(`${name}:listen`), `round ${round}: the listening connection`).toBe(1);
      // Notifications sent while it reconnects are lost (documented): notify until one is heard.
      await expect
        .poll(
          async () => {
            await sql`select pg_notify(${channel}, ${`round ${round}`})`.execute(database.db);
            return heard.includes(`round ${round}`);
          },
          { timeout: 10_000, interval: 50 },
        )
        .toBe(true);
    }
    expect(errors.length).toBeGreaterThanOrEqual(5);
    await stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await connections(`${name}:listen`)).toBe(0);
  });

  it("keeps retrying the LISTEN connection with a growing pause while the server refuses it", async () => {
    const name = uniqueName();
    const errors: Error[] = [];
    let refuse = false;
    const listener = new PostgresNotificationListener({
      // Read at every attempt: switching it plays a server that refuses connections, then comes back.
      get url() {
        return refuse ? UNREACHABLE : url;
      },
      applicationName: name,
      channel: "drop_retry",
      onNotification: () => undefined,
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
      onConnectionError: (error) => errors.push(error),
    });
    await listener.start();
    expect(listener.listening).toBe(true);
    refuse = true;
    expect(await terminate(name)).toBe(1);
    await expect.poll(() => errors.length, { timeout: 5_000 }).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 800));
    // About 20+40+80+160+200+200 ms of pauses fit in 800 ms: a bounded number of attempts, no hot loop.
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors.length).toBeLessThanOrEqual(12);
    expect(listener.listening).toBe(false);
    refuse = false;
    await expect.poll(() => listener.listening, { timeout: 5_000 }).toBe(true);
    await listener.close();
    expect(listener.listening).toBe(false);
  });

  it("rejects start when the first connection fails, and does not retry it", async () => {
    const errors: Error[] = [];
    const listener = new PostgresNotificationListener({
      url: UNREACHABLE,
      channel: "drop_never",
      onNotification: () => undefined,
      onConnectionError: (error) => errors.push(error),
    });
    const refused = await listener.start().catch((error: unknown) => error);
    expect(isConnectionFailure(refused)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(errors).toEqual([]);
    await listener.close();
  });

  it("takes keys again on a new connection after the lock's connection is terminated while idle", async () => {
    const name = uniqueName();
    await using database = await createDatabase({ url, applicationName: name });
    const lock = database.sessionKeyLock();
    expect(await lock.withLock("k", async () => "first")).toBe("first");
    expect(await terminate(`${name}:session-key-lock`)).toBe(1);
    expect(await lock.withLock("k", async () => "again")).toBe("again");
    expect(await connections(`${name}:session-key-lock`)).toBe(1);
  });

  it("survives its connection being terminated again and again under load: holders learn SESSION_KEY_LOCK_LOST, the others get their key", async () => {
    const name = uniqueName();
    const errors: Error[] = [];
    await using database = await createDatabase({
      url,
      applicationName: name,
      onPoolError: (error) => errors.push(error),
    });
    const lock = database.sessionKeyLock();
    const outcomes = new Map<string, number>();
    let running = true;
    const workers = Array.from({ length: 8 }, async (_, worker) => {
      while (running) {
        const outcome = await lock
          .withLock(`key-${worker % 4}`, async () => {
            await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
            return "ok";
          })
          .catch((error: unknown) => (isEngramError(error) ? error.code : `uncoded: ${String(error)}`));
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    });
    let terminated = 0;
    for (let round = 0; round < 10; round++) {
      await new Promise((resolve) => setTimeout(resolve, 40 + Math.random() * 60));
      terminated += await terminate(`${name}:session-key-lock`);
    }
    running = false;
    await Promise.all(workers);
    expect(terminated).toBeGreaterThanOrEqual(5);
    for (const outcome of outcomes.keys()) {
      expect(["ok", "SESSION_KEY_LOCK_LOST", "STORE_FAILED"]).toContain(outcome);
    }
    expect(outcomes.get("SESSION_KEY_LOCK_LOST") ?? 0).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(await lock.withLock("key-0", async () => "after")).toBe("after");
  });

  it("gives up with STORE_FAILED after reconnectWindowMs while the server stays unreachable, pausing between attempts", async () => {
    const errors: Error[] = [];
    const lock = new PostgresSessionKeyLock({
      url: UNREACHABLE,
      reconnectWindowMs: 500,
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
      onConnectionError: (error) => errors.push(error),
    });
    const started = Date.now();
    const refused = await lock.withLock("k", async () => "never").catch((error: unknown) => error);
    const elapsed = Date.now() - started;
    expect(isEngramError(refused) && refused.code).toBe("STORE_FAILED");
    expect(isConnectionFailure(refused)).toBe(true);
    expect(elapsed).toBeLessThan(2_000);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeLessThanOrEqual(10);
    await lock.close();
  });
});
