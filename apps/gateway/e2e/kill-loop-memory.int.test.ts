/**
 * The memory promise under repeated `kill -9` (issue 13, item 5): every completed turn is committed to
 * memory exactly once at a real boundary, crashes included. Several chats send messages (each states
 * a preference the Holographic provider extracts at session end), `/new` mixed in, while the real
 * gateway executable is SIGKILLed at random moments and restarted; then a final restart and a clean
 * stop (SIGTERM). Read from the database afterwards:
 *
 * - no session has uncommitted generations in the durable commit ledger;
 * - no acknowledged turn is lost: its user message and reply are in its session's transcript, and the
 *   fact it stated is in Holographic memory (so its commit really reached the provider); nor is any
 *   completed turn whose answer the kill cut off (its reply is saved: a retry gets it), and the
 *   ledger counts every completed turn;
 * - no turn is duplicated: no user message is stored twice, no session's ledger counts more
 *   generations than completed turns (a turn marked twice), no fact is stored twice in a scope.
 *
 * It prints its figures. `ENGRAM_CHAOS_KILLS` sets the number of kills (default 20; `pnpm chaos` runs
 * a longer loop).
 */
import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeE2E, type E2EGateway, telegramDm } from "./harness/index.js";

const KILLS = Math.max(1, Number(process.env.ENGRAM_CHAOS_KILLS ?? 20));
const CHATS = 4;
/** Of the messages a chat sends, about one in this many is `/new`. */
const NEW_EVERY = 5;

interface AckedTurn {
  readonly chatId: string;
  readonly text: string;
  readonly sessionId: string;
}

interface Figures {
  backend: string;
  kills: number;
  acknowledgedTurns: number;
  newCommands: number;
  lostTurns: number;
  lostFacts: number;
  duplicatedMessages: number;
  duplicatedGenerations: number;
  /** Completed turns (a saved reply) the ledger never counted: a kill between saving and marking. */
  unmarkedTurns: number;
  /** Completed turns, acknowledged or not (the kill cut the answer), whose fact memory never got. */
  completedTurnsWithoutFact: number;
  duplicatedFacts: number;
  sessions: number;
  sessionsLeftUncommitted: number;
  durationMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the senders until `stop()` resolves, recording every acknowledged turn. */
function runChats(gateway: E2EGateway, acked: AckedTurn[], counts: { sent: number; news: number }) {
  let running = true;
  const senders = Array.from({ length: CHATS }, async (_, chat) => {
    const chatId = `77${chat}`;
    while (running) {
      const isNew = Math.random() < 1 / NEW_EVERY;
      const n = counts.sent++;
      const text = isNew ? "/new" : `I always use tool-${chatId}-${n} for this.`;
      const answer = await gateway.send(telegramDm(chatId), text).catch(() => undefined);
      if (answer?.status !== 200) return; // the process is gone: wait for the next start
      if (isNew) counts.news++;
      else if (answer.body.reply !== null && !answer.body.duplicate) {
        acked.push({ chatId, text, sessionId: answer.body.sessionId });
      }
    }
  });
  return async () => {
    running = false;
    await Promise.all(senders);
  };
}

async function readFigures(gateway: E2EGateway) {
  return gateway.withDb(async (db) => {
    const messages = await db
      .selectFrom("messages")
      .select(["session_id", "role", "content"])
      .where("active", "=", true)
      .orderBy("id")
      .execute();
    const ledger = (
      await sql<{ session_id: string; generation: number; committed: number }>`
        select session_id, generation::int as generation, committed::int as committed from commit_sessions
      `.execute(db)
    ).rows;
    const facts = (
      await sql<{ scope: string; content: string }>`select scope, content from holographic_facts`.execute(db)
    ).rows;
    return { messages, ledger, facts };
  });
}

describeE2E(
  "memory under repeated kill -9",
  (gateway) => {
    it(
      `commits every acknowledged turn exactly once through ${KILLS} kills, /new and a final clean stop`,
      async () => {
        const startedAt = Date.now();
        const acked: AckedTurn[] = [];
        const counts = { sent: 0, news: 0 };
        await gateway().start();
        for (let kill = 0; kill < KILLS; kill++) {
          const stop = runChats(gateway(), acked, counts);
          // Traffic first (a slow machine answers the first turn late), then any moment: mid-turn,
          // mid-commit at a /new, mid-sweep.
          const before = acked.length;
          const deadline = Date.now() + 3_000;
          while (acked.length === before && Date.now() < deadline) await sleep(20);
          await sleep(Math.floor(Math.random() * 800));
          await gateway().stop("SIGKILL");
          await stop();
          await gateway().start();
        }
        // A last stretch of traffic, then the clean stop whose drain must leave nothing behind.
        const stop = runChats(gateway(), acked, counts);
        await sleep(300);
        await stop();
        expect((await gateway().stop("SIGTERM")).code).toBe(0);

        const { messages, ledger, facts } = await readFigures(gateway());
        let lostTurns = 0;
        for (const turn of acked) {
          const inSession = messages.filter((m) => m.session_id === turn.sessionId);
          const at = inSession.findIndex((m) => m.role === "user" && m.content === turn.text);
          if (at < 0 || inSession[at + 1]?.role !== "assistant") lostTurns++;
        }
        const factContents = new Set(facts.map((fact) => fact.content));
        const lostFacts = acked.filter((turn) => !factContents.has(turn.text)).length;
        const userTexts = messages
          .filter((m) => m.role === "user" && m.content !== "/new")
          .map((m) => m.content);
        const duplicatedMessages = userTexts.length - new Set(userTexts).size;
        const completedTurns = new Map<string, number>();
        for (const m of messages) {
          if (m.role === "assistant")
            completedTurns.set(m.session_id, (completedTurns.get(m.session_id) ?? 0) + 1);
        }
        const duplicatedGenerations = ledger.filter(
          (row) => row.generation > (completedTurns.get(row.session_id) ?? 0),
        ).length;
        let unmarkedTurns = 0;
        for (const [sessionId, turns] of completedTurns) {
          const generation = ledger.find((row) => row.session_id === sessionId)?.generation ?? 0;
          if (turns > generation) unmarkedTurns += turns - generation;
        }
        let completedTurnsWithoutFact = 0;
        const bySession = new Map<string, typeof messages>();
        for (const m of messages) bySession.set(m.session_id, [...(bySession.get(m.session_id) ?? []), m]);
        for (const rows of bySession.values()) {
          rows.forEach((m, i) => {
            const completed = m.role === "user" && rows[i + 1]?.role === "assistant";
            if (completed && m.content?.startsWith("I always use") && !factContents.has(m.content)) {
              completedTurnsWithoutFact++;
            }
          });
        }
        const duplicatedFacts = facts.length - new Set(facts.map((f) => `${f.scope}\n${f.content}`)).size;
        const leftUncommitted = ledger.filter((row) => row.generation > row.committed);
        const figures: Figures = {
          backend: gateway().backend,
          kills: KILLS,
          acknowledgedTurns: acked.length,
          newCommands: counts.news,
          lostTurns,
          lostFacts,
          duplicatedMessages,
          duplicatedGenerations,
          unmarkedTurns,
          completedTurnsWithoutFact,
          duplicatedFacts,
          sessions: ledger.length,
          sessionsLeftUncommitted: leftUncommitted.length,
          durationMs: Date.now() - startedAt,
        };
        console.log(`CHAOS ${JSON.stringify(figures)}`);

        expect(acked.length).toBeGreaterThan(KILLS);
        expect(leftUncommitted).toEqual([]);
        expect({ lostTurns, lostFacts, completedTurnsWithoutFact, unmarkedTurns }).toEqual({
          lostTurns: 0,
          lostFacts: 0,
          completedTurnsWithoutFact: 0,
          unmarkedTurns: 0,
        });
        expect({ duplicatedMessages, duplicatedGenerations, duplicatedFacts }).toEqual({
          duplicatedMessages: 0,
          duplicatedGenerations: 0,
          duplicatedFacts: 0,
        });
      },
      // Each kill costs a start (PGlite replays its WAL: seconds on a busy machine) and up to 3.8 s
      // of traffic. Generous: the figures matter here, not the time (about 1.5 min per backend idle).
      60_000 + KILLS * 15_000,
    );
  },
  {
    manualStart: true,
    // The sweep commits what each killed process left while the loop runs, not only the final drain.
    env: { ENGRAM_GATEWAY_EXPIRY_SWEEP_MS: "250" },
  },
);
