import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../db/database.js";
import type { DB } from "../db/schema/index.js";
import { createTestDatabase, type TestDatabase } from "../testing/create-test-database.js";
import { testBackends } from "../testing/test-backends.js";
import { truncateAll } from "../testing/truncate-all.js";
import { PostgresRoutingIndex } from "./postgres-routing-index.js";
import { manualClock, routingIndexConformance } from "./routing-index.conformance.js";

for (const backend of testBackends()) {
  let database: TestDatabase | undefined;
  const db = (): Kysely<DB> => {
    if (!database) throw new Error("database not open");
    return database.db;
  };

  routingIndexConformance({
    name: `PostgresRoutingIndex [${backend.name}]`,
    beforeAll: async () => {
      database = await createTestDatabase(backend);
    },
    afterAll: async () => {
      await database?.close();
    },
    reset: () => truncateAll(db()),
    createIndex: (props) => new PostgresRoutingIndex(db(), props),
    readStoredOverride: async (sessionKey) => {
      const row = await db()
        .selectFrom("routing_entries")
        .select("model_override")
        .where("session_key", "=", sessionKey)
        .executeTakeFirst();
      return row?.model_override ?? null;
    },
  });

  describe(`routing_entries constraints [${backend.name}]`, () => {
    let own: TestDatabase;
    beforeAll(async () => {
      own = await createTestDatabase(backend);
    });
    afterAll(async () => {
      await own?.close();
    });

    it("rejects a row carrying credentials even when written around the index", async () => {
      const write = own.db
        .insertInto("routing_entries")
        .values({
          session_key: "raw",
          session_id: "s",
          created_at: new Date(),
          updated_at: new Date(),
          origin: null,
          display_name: null,
          platform: null,
          last_prompt_tokens: 0,
          auto_reset_reason: null,
          resume_reason: null,
          resume_marked_at: null,
          model_override: JSON.stringify({ model: "m", apiKey: "sk-secret" }),
        })
        .execute();
      await expect(write).rejects.toMatchObject({ code: "23514" });
      const { rows } = await sql<{ n: number }>`select count(*) as n from routing_entries`.execute(own.db);
      expect(Number(rows[0]?.n)).toBe(0);
    });
  });
}

// The conformance suite races routers through one pool; here they use separate pools, as separate
// gateway processes would.
const postgres = testBackends().find((backend) => backend.name === "postgres");

describe.skipIf(!postgres)("PostgresRoutingIndex across pools [postgres]", () => {
  let home: TestDatabase;
  const pools: Database[] = [];
  let routers: PostgresRoutingIndex[] = [];
  const clock = manualClock();

  beforeAll(async () => {
    if (postgres?.name !== "postgres") return;
    home = await createTestDatabase(postgres);
    for (let i = 0; i < 3; i++) pools.push(await createDatabase({ url: postgres.url, schema: home.schema }));
    routers = pools.map((database) => new PostgresRoutingIndex(database.db, { clock }));
  });
  afterAll(async () => {
    await Promise.all(pools.map((database) => database.close()));
    await home?.close();
  });

  async function race<T>(count: number, task: (i: number) => Promise<T>): Promise<T[]> {
    let open!: () => void;
    const barrier = new Promise<void>((resolve) => {
      open = resolve;
    });
    const running = Array.from({ length: count }, async (_, i) => {
      await barrier;
      return task(i);
    });
    open();
    return Promise.all(running);
  }

  it("has exactly one winner per reset race and loses no flag patch, round after round", async () => {
    const key = "agent:main:telegram:dm:1";
    for (let round = 0; round < 10; round++) {
      await routers[0]!.put({ sessionKey: key, sessionId: `r${round}` });
      const switched = await race(24, async (i) => {
        const router = routers[i % routers.length]!;
        if (i % 2 === 0) return (await router.switchSession(key, `r${round}`, `r${round}-${i}`)).switched;
        await router.patch(key, i % 4 === 1 ? { lastPromptTokens: 5 } : { displayName: "x" });
        return false;
      });
      const winners = switched.filter(Boolean);
      expect(winners).toHaveLength(1);
    }
    // Patches that landed after the winning switch are kept; none is undone by the switch's write.
    const final = await routers[2]!.get(key);
    expect(final?.sessionId).toMatch(/^r9-\d+$/);
  });
});
