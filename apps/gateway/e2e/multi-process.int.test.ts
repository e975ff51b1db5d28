/**
 * Two gateway executables on one Postgres database, as a horizontally scaled deployment runs them.
 * The model is the testkit's stand-in OpenAI server answering slowly, so turns provably overlap in
 * time. Each process serialises a key's turns only in its own memory; the session-key lock
 * (`Database.sessionKeyLock()`, advisory locks) is what keeps the two processes from interleaving
 * them. Without it this file fails: user messages pile up before their answers.
 */
import { beforeAll, expect, it } from "vitest";
import { describeE2E, E2E_TOKEN, type MessageReply, telegramDm, useStandInModel } from "./harness/index.js";

const standIn = useStandInModel();
const dm = telegramDm;

interface RequestMessage {
  readonly role: string;
  readonly content?: unknown;
}

describeE2E(
  "two gateway processes on one Postgres database",
  (gateway) => {
    const onPostgres = () => gateway().backend === "postgres";
    beforeAll(async () => {
      if (onPostgres()) await gateway().start(standIn.env());
    });

    it("runs the turns of one session key one at a time across both processes: the transcript strictly alternates", async (context) => {
      if (!onPostgres()) {
        console.log(
          "skipped on PGlite: its data folder belongs to one process, so two gateways cannot share it",
        );
        context.skip();
      }
      const peer = await gateway().startPeer();
      try {
        const turns = 16;
        const firstRequest = standIn.server.requests.length;
        // Every answer is slow, so without a cross-process lock the other process starts its turn of
        // the same key while this one waits on the model.
        standIn.server.script(
          ...Array.from({ length: turns }, (_, i) => ({ text: `answer ${i}`, delayMs: 150 })),
        );
        const processes = [gateway().process, peer];
        const texts = Array.from({ length: turns }, (_, i) => `same key message ${i}`);
        const answers = await Promise.all(
          texts.map((text, i) =>
            processes[i % 2]!.post<MessageReply>(
              { source: dm("8801"), text, messageId: `m-${i}` },
              { authorization: `Bearer ${E2E_TOKEN}` },
            ),
          ),
        );
        expect(answers.map((a) => a.status)).toEqual(texts.map(() => 200));
        const sessionIds = new Set(answers.map((a) => a.body.sessionId));
        expect(sessionIds.size).toBe(1);
        const rows = await gateway().withDb((db) =>
          db
            .selectFrom("messages")
            .select(["role", "content"])
            .where("session_id", "=", [...sessionIds][0]!)
            .orderBy("id")
            .execute(),
        );
        expect(rows.map((r) => r.role)).toEqual(texts.flatMap(() => ["user", "assistant"]));
        expect(
          rows
            .filter((r) => r.role === "user")
            .map((r) => r.content)
            .sort(),
        ).toEqual([...texts].sort());
        expect(
          rows
            .filter((r) => r.role === "assistant")
            .map((r) => r.content)
            .sort(),
        ).toEqual(Array.from({ length: turns }, (_, i) => `answer ${i}`).sort());
        // Each HTTP reply is its own turn's answer, and that turn's user message directly precedes it.
        for (const [i, answer] of answers.entries()) {
          const at = rows.findIndex((r) => r.role === "assistant" && r.content === answer.body.reply);
          expect(rows[at - 1]?.content, texts[i]).toBe(texts[i]);
        }
        // The model saw a well-formed conversation every time: user/assistant alternating, its own
        // message last, never another turn's unanswered message.
        const requests = standIn.server.requests.slice(firstRequest);
        expect(requests).toHaveLength(turns);
        for (const request of requests) {
          const messages = (request.body.messages as RequestMessage[]).filter(
            (m) => m.role === "user" || m.role === "assistant",
          );
          expect(messages.map((m) => m.role)).toEqual(
            Array.from({ length: messages.length }, (_, i) => (i % 2 === 0 ? "user" : "assistant")),
          );
        }
      } finally {
        await peer.kill("SIGTERM");
      }
    }, 60_000);
  },
  { manualStart: true },
);
