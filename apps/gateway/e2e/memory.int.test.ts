/**
 * Long-term memory through the real gateway executable with its defaults: the offline model and the
 * Holographic provider. A preference stated in one session is committed when the user leaves it
 * (`/new`) and recalled in the next one, also after a crash of the process in between.
 */
import { expect, it } from "vitest";
import { describeE2E } from "./harness/index.js";

const dm = (chatId: string) => ({ platform: "telegram", chatId, chatType: "dm", userId: chatId });

describeE2E("gateway memory end to end", (gateway) => {
  it("recalls after /new a fact told before it", async () => {
    const before = await gateway().say(dm("9501"), "My favourite editor theme is solarized-indigo.");
    // Nothing is extracted per turn: the same question in this session recalls nothing yet.
    const early = await gateway().say(dm("9501"), "What is my favourite editor theme?");
    expect(early.reply).toContain("Nothing was recalled from memory.");
    const fresh = await gateway().say(dm("9501"), "/new");
    expect(fresh.sessionId).not.toBe(before.sessionId);
    const answer = await gateway().say(dm("9501"), "What is my favourite editor theme?");
    expect(answer.sessionId).toBe(fresh.sessionId);
    expect(answer.reply).toContain("From memory I recall:");
    expect(answer.reply).toContain("solarized-indigo");
    // Recalled memory reaches the model but is never persisted into the transcript.
    const stored = await gateway().withDb((db) =>
      db.selectFrom("messages").select(["content"]).where("session_id", "=", answer.sessionId).execute(),
    );
    for (const row of stored) expect(row.content).not.toContain("<memory-context>");
  });

  it("keeps a committed fact across kill -9 of the gateway", async () => {
    await gateway().say(dm("9502"), "I always use tabs-of-width-three in my code.");
    await gateway().say(dm("9502"), "/new");
    await gateway().stop("SIGKILL");
    await gateway().start();
    const answer = await gateway().say(dm("9502"), "Which tabs do I use in my code?");
    expect(answer.reply).toContain("From memory I recall:");
    expect(answer.reply).toContain("tabs-of-width-three");
  });
});
