/**
 * Regression: cross-user memory bleed.
 *
 * The bug: every session's Holographic provider shared one process-wide fact store, so a preference
 * user A stated (committed when A left the session with `/new`) was recalled for user B in B's own DM.
 * The fix: memory scopes. Each session's provider gets the store of `memoryScopeFor(source)`: a
 * person's sessions (their DM, their own session in a group) share `telegram:user:<id>`, a shared room
 * has `telegram:chat:<chat>[:<thread>]`, and no scope sees another's facts.
 *
 * Through the real executable with its defaults (offline model, Holographic with auto-extraction),
 * on PGlite and Postgres.
 */
import { expect, it } from "vitest";
import { describeE2E } from "./harness/index.js";

const dm = (userId: string) => ({ platform: "telegram", chatId: userId, chatType: "dm", userId });
const inGroup = (userId: string) => ({ platform: "telegram", chatId: "-100777", chatType: "group", userId });
const inSharedThread = (userId: string) => ({
  platform: "telegram",
  chatId: "-100777",
  chatType: "thread",
  threadId: "42",
  userId,
});

describeE2E("gateway memory bleed between users", (gateway) => {
  it("never recalls one user's preference for another user, and recalls it for its owner", async () => {
    await gateway().say(dm("8101"), "I prefer tabs over spaces");
    await gateway().say(dm("8101"), "/new");

    // The failure: B (another Telegram user, own DM) was answered from A's memory.
    const other = await gateway().say(dm("8102"), "What do I prefer, tabs or spaces?");
    expect(other.reply).toContain("[offline model]");
    expect(other.reply).toContain("Nothing was recalled from memory.");
    expect(other.reply).not.toContain("tabs over spaces");

    const owner = await gateway().say(dm("8101"), "What do I prefer, tabs or spaces?");
    expect(owner.reply).toContain("From memory I recall:");
    expect(owner.reply).toContain("tabs over spaces");
  });

  it("follows a person from their DM into their own session in a group, and no one else's", async () => {
    await gateway().say(dm("8201"), "I prefer the mauve-lagoon theme");
    await gateway().say(dm("8201"), "/new");
    // Groups give each participant their own session by default, so it is the same person's memory.
    const own = await gateway().say(inGroup("8201"), "Which theme do I prefer?");
    expect(own.reply).toContain("mauve-lagoon");
    const neighbour = await gateway().say(inGroup("8202"), "Which theme do I prefer?");
    expect(neighbour.reply).not.toContain("mauve-lagoon");
  });

  it("keeps what a shared thread learned in the thread, out of its members' personal memory", async () => {
    await gateway().say(inSharedThread("8301"), "We have decided to use ochre-falcon release names.");
    await gateway().say(inSharedThread("8302"), "/new");
    // The thread is one conversation: what it learned is the room's, recalled for everyone there.
    const room = await gateway().say(inSharedThread("8302"), "Which release names did we decide on?");
    expect(room.reply).toContain("ochre-falcon");
    const personal = await gateway().say(dm("8301"), "Which release names did we decide on?");
    expect(personal.reply).not.toContain("ochre-falcon");
  });
});
