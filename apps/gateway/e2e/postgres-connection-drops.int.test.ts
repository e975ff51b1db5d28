/**
 * Regression, issue 13 item 2: `select pg_terminate_backend(pid) ...` on the gateway's connections
 * made the process exit ("Unhandled 'error' event" on a `pg` client, 57P01 / "Connection terminated
 * unexpectedly"): a pool client checked out by Kysely between two statements of a transaction has no
 * `error` listener, and neither had the connections opened outside the pool at every moment.
 *
 * Fix: every `pg` client of `@engram/store` has an error listener for its whole life, connection
 * failures surface as coded 503 answers, the session-key lock reconnects with backoff (a lock held when
 * its connection dropped is reported lost, `SESSION_KEY_LOCK_LOST`), and the process's connections
 * carry an `application_name` so an operator (and this test) can find them.
 *
 * The test drives the built executable on real Postgres (PGlite has no server connections to drop) and
 * terminates every backend of its database from a separate admin connection: rounds while idle and
 * rounds under concurrent `POST /v1/messages`. After each round the process is up, `/health` is 200
 * and the next turn succeeds; every answer during a round is 200 or a coded 503 JSON error; at the end
 * every acknowledged turn is in its transcript.
 */
import { createDatabase, type Database } from "@engram/store";
import { testBackends } from "@engram/store/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2EDatabase, E2EGateway, ensureGatewayBuilt, telegramDm, useStandInModel } from "./harness/index.js";

const IDLE_ROUNDS = 10;
const LOAD_ROUNDS = 10;
const SENDERS = 8;
const CHATS = 4; // two senders per chat: turns queue on the session-key lock while it is held
/** Longest wait after a termination for `/health` to answer 200 again. */
const RECOVERY_MS = 5_000;
/** What a request that met a dropped connection may answer: the database is unavailable, retry. */
const UNAVAILABLE_CODES = ["STORE_FAILED", "SESSION_KEY_LOCK_LOST"];

const postgres = testBackends().find((backend) => backend.name === "postgres");
if (!postgres) {
  console.info(
    "[gateway e2e] postgres connection drops: skipped, DATABASE_URL is unset (it terminates server backends; PGlite has none)",
  );
}

interface Acked {
  readonly text: string;
  readonly sessionId: string;
}

describe.skipIf(!postgres)("gateway with its Postgres connections terminated [postgres]", () => {
  const standIn = useStandInModel();
  let gateway: E2EGateway | undefined;
  let admin: Database | undefined;
  let databaseName = "";

  beforeAll(async () => {
    if (!postgres) return;
    await ensureGatewayBuilt();
    const database = await E2EDatabase.create(postgres);
    gateway = new E2EGateway(database, {});
    databaseName = new URL(database.env().DATABASE_URL!).pathname.slice(1);
    // On the server's own database, so it is never among the backends it terminates.
    admin = await createDatabase({ url: postgres.url, maxConnections: 1 });
    await gateway.start(standIn.env());
  });

  afterAll(async () => {
    await gateway?.close();
    await admin?.close();
  });

  const running = () => {
    if (!gateway || !admin) throw new Error("set up in beforeAll");
    return { gateway, admin: admin.db };
  };

  /** Terminates every backend of the gateway's database (the admin connection is on another one). */
  const terminateAll = async (): Promise<Array<{ application_name: string }>> => {
    const { rows } = await sql<{ application_name: string; terminated: boolean }>`
      select application_name, pg_terminate_backend(pid) as terminated
        from pg_stat_activity
       where datname = ${databaseName} and pid <> pg_backend_pid()
    `.execute(running().admin);
    return rows.filter((row) => row.terminated);
  };

  /** Waits until `/health` answers 200; fails at once if the process died. */
  const recovered = async (): Promise<void> => {
    const { gateway } = running();
    const deadline = Date.now() + RECOVERY_MS;
    for (;;) {
      expect(gateway.process.running, `the gateway is up\n${gateway.process.output()}`).toBe(true);
      const health = await gateway.process.get("/health").catch(() => undefined);
      if (health?.status === 200) return;
      expect(Date.now(), "/health answers 200 again after a termination").toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  // Before any direct connection of the test opens on the same database.
  it("labels every connection of the process with its application_name, so an operator can find them", async () => {
    const { gateway, admin } = running();
    await gateway.say(telegramDm("label"), "who is connected?");
    const { rows } = await sql<{ application_name: string }>`
      select application_name from pg_stat_activity where datname = ${databaseName} and pid <> pg_backend_pid()
    `.execute(admin);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.application_name).toMatch(/^engram-gateway/);
  });

  it("stays up through terminations while idle and under load, answering 200 or a coded 503, losing no acknowledged turn", async () => {
    const { gateway } = running();
    const acked: Acked[] = [];
    const refused = new Map<string, number>();
    let terminations = 0;
    let backendsTerminated = 0;
    let sent = 0;

    for (let round = 0; round < IDLE_ROUNDS; round++) {
      // A turn first, so the pool and the session-key lock have connections to lose.
      const before = await gateway.say(telegramDm(`idle-${round % CHATS}`), `idle ${round}`);
      acked.push({ text: `idle ${round}`, sessionId: before.sessionId });
      const killed = await terminateAll();
      expect(killed.length, "the gateway had backends to terminate").toBeGreaterThan(0);
      backendsTerminated += killed.length;
      terminations++;
      await recovered();
      // The next request succeeds: nothing is left holding a dead connection.
      const text = `after idle ${round}`;
      const after = await gateway.say(telegramDm(`idle-${round % CHATS}`), text);
      acked.push({ text, sessionId: after.sessionId });
    }

    for (let round = 0; round < LOAD_ROUNDS; round++) {
      let sending = true;
      const problems: string[] = [];
      const senders = Array.from({ length: SENDERS }, async (_, sender) => {
        const chat = telegramDm(`load-${sender % CHATS}`);
        while (sending) {
          const text = `load ${round}.${sender}.${sent++}`;
          const answer = await gateway.send(chat, text).catch((error: unknown) => error as Error);
          if (answer instanceof Error) {
            problems.push(`${text}: no HTTP answer (${answer.message})`);
            return;
          }
          if (answer.status === 200) {
            acked.push({ text, sessionId: answer.body.sessionId });
            continue;
          }
          const code = String((answer.body as { error?: { code?: unknown } }).error?.code);
          if (answer.status === 503 && UNAVAILABLE_CODES.includes(code)) {
            refused.set(code, (refused.get(code) ?? 0) + 1);
          } else {
            problems.push(`${text}: ${answer.status} ${JSON.stringify(answer.body)}`);
          }
        }
      });
      // Mid-load: turns hold the key lock, pooled clients are checked out inside transactions.
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(Math.random() * 250)));
      const killed = await terminateAll();
      backendsTerminated += killed.length;
      terminations++;
      await new Promise((resolve) => setTimeout(resolve, 300));
      sending = false;
      await Promise.all(senders);
      const died = gateway.process.running ? "" : `\nthe gateway died:\n${gateway.process.output()}`;
      expect(problems, `round ${round}: every answer is 200 or a coded 503${died}`).toEqual([]);
      await recovered();
      const text = `after load ${round}`;
      const after = await gateway.say(telegramDm(`load-${round % CHATS}`), text);
      acked.push({ text, sessionId: after.sessionId });
    }

    const messages = await gateway.withDb((db) =>
      db.selectFrom("messages").select(["session_id", "role", "content"]).orderBy("id").execute(),
    );
    // Acknowledged means saved: the user's message, with the reply right after it.
    const lost = acked.filter((turn) => {
      const session = messages.filter((m) => m.session_id === turn.sessionId);
      const at = session.findIndex((m) => m.role === "user" && m.content === turn.text);
      return at < 0 || session[at + 1]?.role !== "assistant";
    });
    console.info(
      `[gateway e2e] postgres connection drops: ${IDLE_ROUNDS} idle + ${LOAD_ROUNDS} loaded rounds, ` +
        `${terminations} terminations survived (${backendsTerminated} backends), ${acked.length} acknowledged turns, ` +
        `503 answers ${JSON.stringify(Object.fromEntries(refused))}, lost ${lost.length}`,
    );
    expect(gateway.process.running).toBe(true);
    expect(lost).toEqual([]);
    expect(acked.length).toBeGreaterThan(IDLE_ROUNDS * 2 + LOAD_ROUNDS);
  }, 90_000);
});
