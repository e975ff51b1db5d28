/**
 * Gateway hot paths on each backend (PGlite always, Postgres when DATABASE_URL is set):
 * - `gateway.route.reuse`: `getOrCreateSession` for known keys (one index read, one row read, one touch);
 * - `gateway.route.create`: first messages of new chats (CAS insert + transcript row);
 * - `gateway.http.turn`: one whole turn over HTTP (route, persist both messages, echo runner,
 *   markTurnCompleted), 8 chats in parallel — the gateway's own overhead without a model.
 */

import { randomBytes } from "node:crypto";
import { benchLatency, benchThroughput } from "@engram/bench";
import { EchoTurnRunner } from "@engram/sessions";
import { createDatabase, type Database, migrateStore } from "@engram/store";
import { sql } from "kysely";
import { createGateway } from "../src/app/create-gateway.js";
import { parseGatewayConfig } from "../src/config/gateway-config.js";

const CHATS = 200;
const CONCURRENCY = 8;
const TOKEN = "bench-token-0123456789";

const dm = (i: number) => ({
  platform: "telegram",
  chatId: `c${i}`,
  chatType: "dm" as const,
  userId: `c${i}`,
});

// `@engram/store/testing` imports vitest, so the bench opens its databases itself: an in-memory
// PGlite, and on Postgres a throwaway schema.
const backends: Array<{ name: string; open: () => Promise<Database> }> = [
  { name: "pglite", open: () => createDatabase({ memory: true }) },
];
const url = process.env.DATABASE_URL;
if (url) {
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  backends.push({
    name: "postgres",
    open: () => createDatabase({ url, schema, maxConnections: CONCURRENCY + 2 }),
  });
}

for (const backend of backends) {
  const database = await backend.open();
  await migrateStore(database.db);
  const gateway = createGateway({
    config: parseGatewayConfig({ token: TOKEN, expirySweepIntervalMs: 0 }),
    db: database.db,
    runner: new EchoTurnRunner(),
  });
  const extra = { backend: backend.name, concurrency: CONCURRENCY };
  try {
    for (let i = 0; i < CHATS; i++) await gateway.router.getOrCreateSession(dm(i));
    let n = 0;
    await benchThroughput({
      name: "gateway.route.reuse",
      opsPerRun: CHATS,
      runs: 5,
      extra: { ...extra, chats: CHATS },
      run: () =>
        Promise.all(
          Array.from({ length: CONCURRENCY }, async (_, lane) => {
            for (let i = lane; i < CHATS; i += CONCURRENCY) await gateway.router.getOrCreateSession(dm(i));
          }),
        ),
    });
    await benchThroughput({
      name: "gateway.route.create",
      opsPerRun: CHATS,
      runs: 5,
      extra,
      run: () =>
        Promise.all(
          Array.from({ length: CONCURRENCY }, async (_, lane) => {
            for (let i = lane; i < CHATS; i += CONCURRENCY) {
              await gateway.router.getOrCreateSession(dm(100_000 + n++));
            }
          }),
        ),
    });
    await gateway.server.listen({ host: "127.0.0.1", port: 0 });
    const address = gateway.server.server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    const url = `http://127.0.0.1:${address.port}/v1/messages`;
    await benchLatency({
      name: "gateway.http.turn",
      samples: 50,
      extra: { ...extra, chatsPerSample: CONCURRENCY },
      // One sample = 8 chats sending one message each, in parallel.
      sample: (i) =>
        Promise.all(
          Array.from({ length: CONCURRENCY }, (_, lane) =>
            fetch(url, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
              body: JSON.stringify({ source: dm(lane), text: `message ${i}` }),
            }).then((response) => response.arrayBuffer()),
          ),
        ),
    });
  } finally {
    await gateway.close({ drainDeadlineMs: 5000 });
    if (database.backend === "postgres") {
      // The schema name is generated above from hex digits.
      await sql.raw(`drop schema if exists ${database.schema} cascade`).execute(database.db);
    }
    await database.close();
  }
}
