import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../db/database.js";
import { createTestDatabase, type TestDatabase } from "../testing/create-test-database.js";
import { testBackends } from "../testing/test-backends.js";
import { PostgresTranscriptStore } from "./postgres-transcript-store.js";

// The conformance suite races calls through one pool. Here the writers use separate pools, as separate
// gateway processes would, and every round starts behind a barrier so the calls really overlap.
const postgres = testBackends().find((backend) => backend.name === "postgres");

describe.skipIf(!postgres)("PostgresTranscriptStore across pools [postgres]", () => {
  let home: TestDatabase;
  const pools: Database[] = [];
  let stores: PostgresTranscriptStore[] = [];

  beforeAll(async () => {
    if (!postgres) return;
    home = await createTestDatabase(postgres);
    for (let i = 0; i < 3; i++) {
      pools.push(
        await createDatabase({ url: postgres.name === "postgres" ? postgres.url : "", schema: home.schema }),
      );
    }
    stores = pools.map((database) => new PostgresTranscriptStore(database.db));
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

  it("never loses a counter update over many rounds of racing appends", async () => {
    const rounds = 5;
    const perRound = 30;
    await stores[0]!.createSession({ id: "race", source: "cli" });
    for (let round = 0; round < rounds; round++) {
      await race(perRound, (i) =>
        stores[i % stores.length]!.appendMessage("race", {
          role: "assistant",
          content: `r${round} m${i}`,
          toolCalls: [{ id: `${round}-${i}` }],
          usage: { inputTokens: 7, outputTokens: 1, costUsd: 0.5 },
        }),
      );
    }
    const total = rounds * perRound;
    expect(await stores[1]!.getSession("race")).toMatchObject({
      messageCount: total,
      toolCallCount: total,
      inputTokens: 7 * total,
      outputTokens: total,
      costUsd: 0.5 * total,
    });
    const ids = (await stores[2]!.getMessages("race")).map((message) => message.id);
    expect(new Set(ids).size).toBe(total);
  });

  it("lets exactly one of many racing enders win, round after round", async () => {
    for (let round = 0; round < 10; round++) {
      const id = `end-${round}`;
      await stores[0]!.createSession({ id, source: "cli" });
      const results = await race(12, (i) => stores[i % stores.length]!.endSession(id, `reason_${i}`));
      expect(results.filter((result) => result.ended)).toHaveLength(1);
      const stored = (await stores[0]!.getSession(id))?.endReason;
      expect(results.every((result) => result.endReason === stored)).toBe(true);
    }
  });

  it("dedupes a platform message delivered to several processes at once", async () => {
    await stores[0]!.createSession({ id: "dedupe", source: "telegram" });
    for (let round = 0; round < 10; round++) {
      const results = await race(9, (i) =>
        stores[i % stores.length]!.appendMessage("dedupe", {
          role: "user",
          content: "hi",
          platformMessageId: `u${round}`,
        }),
      );
      expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    }
    expect((await stores[0]!.getSession("dedupe"))?.messageCount).toBe(10);
  });

  it("stores a retried id once when processes race it into different sessions of one key", async () => {
    // The key's old session (before a `/new`) and its new one, as two processes might each route to.
    const sessions = ["key-old", "key-new", "key-newer"];
    for (const id of sessions) {
      await stores[0]!.createSession({ id, source: "telegram", sessionKey: "agent:main:telegram:dm:9" });
    }
    for (let round = 0; round < 10; round++) {
      const results = await race(12, (i) =>
        stores[i % stores.length]!.appendMessage(sessions[(i + round) % sessions.length]!, {
          role: "user",
          content: "x",
          platformMessageId: `retry-${round}`,
        }),
      );
      const winners = results.filter((result) => !result.duplicate);
      expect(winners).toHaveLength(1);
      expect(new Set(results.map((result) => result.messageId))).toEqual(new Set([winners[0]!.messageId]));
    }
    let stored = 0;
    for (const id of sessions) stored += (await stores[1]!.getMessages(id)).length;
    expect(stored).toBe(10);
  });
});
