import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ChatMessage,
  isEngramError,
  type JsonObject,
  MemoryManager,
  type ProviderInitContext,
  sanitizeContext,
} from "@engram/core";
import { FakeClock } from "@engram/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NoteFile } from "./note-file.js";
import { notesConfigSchema } from "./notes-config.js";
import { NotesProvider, noteFrom } from "./notes-provider.js";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "notes-provider-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function context(sessionId: string, extra: Partial<ProviderInitContext> = {}): ProviderInitContext {
  return { sessionId, platform: "telegram", userId: "alice", agentContext: "primary", extra: {}, ...extra };
}

function provider(clock = new FakeClock(1_000)): NotesProvider {
  return new NotesProvider({ config: notesConfigSchema.parse({ dir }), clock });
}

/** One session of one provider behind a MemoryManager, ended with `transcript`, as a host runs it. */
async function session(ctx: ProviderInitContext, transcript: ChatMessage[]): Promise<void> {
  const manager = new MemoryManager();
  manager.addProvider(provider());
  await manager.initializeAll(ctx);
  await manager.onSessionEnd(transcript);
  await manager.shutdownAll();
}

async function recall(ctx: ProviderInitContext, query: string): Promise<string> {
  const manager = new MemoryManager();
  manager.addProvider(provider());
  await manager.initializeAll(ctx);
  const { context: fenced } = await manager.prefetchAll(query, { sessionId: ctx.sessionId });
  await manager.shutdownAll();
  return fenced;
}

const user = (content: string): ChatMessage => ({ role: "user", content });
const assistant = (content: string): ChatMessage => ({ role: "assistant", content });

describe("noteFrom", () => {
  it.each([
    ["Remember that my locker code is 4711.", "my locker code is 4711."],
    ["please remember: the wifi password is hunter2", "the wifi password is hunter2"],
    ["My favourite editor theme is solarized-indigo.", "My favourite editor theme is solarized-indigo."],
    ["What is my locker code?", undefined],
    ["/new", undefined],
    ["hello there", undefined],
    ["The sky is blue today.", undefined],
  ])("takes %j as the note %j", (message, note) => {
    expect(noteFrom(message)).toBe(note);
  });

  it("never takes recalled memory for something the user said", () => {
    const fenced = "<memory-context>\n- my locker code is 4711\n</memory-context>\n\nI live in Lyon.";
    expect(noteFrom(fenced)).toBe(sanitizeContext(fenced).trim());
    expect(noteFrom(fenced)).not.toContain("4711");
  });
});

describe("NotesProvider", () => {
  it("recalls in a later session a note the same user stated in an earlier one", async () => {
    await session(context("s-a"), [
      user("Remember that my locker code is 4711."),
      assistant("Noted."),
      user("What time is it?"),
    ]);
    const fenced = await recall(context("s-b"), "What is my locker code?");
    expect(fenced).toContain("<memory-context>");
    expect(fenced).toContain("- my locker code is 4711.");
    expect(fenced).not.toContain("What time");
  });

  it("keeps users and platforms apart", async () => {
    await session(context("s-a"), [user("My favourite tea is genmaicha.")]);
    expect(await recall(context("s-b", { userId: "bob" }), "favourite tea")).toBe("");
    expect(await recall(context("s-c", { platform: "discord" }), "favourite tea")).toBe("");
    expect(await recall(context("s-d"), "favourite tea")).toContain("genmaicha");
  });

  it("recalls the notes sharing most keywords first, newest first on a tie, up to recallLimit", async () => {
    const clock = new FakeClock(1_000);
    const notes = new NotesProvider({ config: notesConfigSchema.parse({ dir, recallLimit: 2 }), clock });
    await notes.initialize(context("s-a"));
    await notes.onSessionEnd([user("My cat is called Miso.")]);
    clock.advance(1_000);
    await notes.onSessionEnd([user("My cat eats salmon on Sundays."), user("I eat salmon too.")]);
    expect(await notes.prefetch("What does my cat eat on Sundays?", { sessionId: "s-a" })).toBe(
      "- My cat eats salmon on Sundays.\n- I eat salmon too.",
    );
  });

  it("files each note under the session it was stated in and stores a repeated fact once", async () => {
    const clock = new FakeClock(5_000);
    const notes = provider(clock);
    await notes.initialize(context("s-a"));
    await notes.onSessionEnd([user("I cycle to work.")]);
    await notes.onSessionSwitch("s-b", {
      parentSessionId: "s-a",
      reset: true,
      rewound: false,
      reason: "new_session",
    });
    clock.advance(1_000);
    await notes.onSessionEnd([user("I cycle to work."), user("I take the train when it rains.")]);
    const file = new NoteFile(dir, "telegram:user:alice");
    expect(await file.read()).toEqual([
      { text: "I cycle to work.", sessionId: "s-a", at: 5_000 },
      { text: "I take the train when it rains.", sessionId: "s-b", at: 6_000 },
    ]);
  });

  it("writes nothing for a subagent, which only sees part of a conversation", async () => {
    await session(context("s-sub", { agentContext: "subagent" }), [user("My passport expires in May.")]);
    expect(await recall(context("s-b"), "passport")).toBe("");
  });

  it("skips a line torn by a crash and keeps the rest of the file", async () => {
    await session(context("s-a"), [user("I keep spare keys under the blue pot.")]);
    const file = new NoteFile(dir, "telegram:user:alice");
    await appendFile(file.path, '{"text":"half a no');
    expect(await recall(context("s-b"), "spare keys")).toContain("blue pot");
    await session(context("s-c"), [user("I water the blue pot on Mondays.")]);
    expect(await readFile(file.path, "utf8")).toContain("Mondays");
  });

  it("answers notes_search with ranked notes and rejects bad arguments with INVALID_ARGUMENT", async () => {
    const notes = provider();
    await notes.initialize(context("s-a"));
    await notes.onSessionEnd([user("My dentist is Dr Okafor.")]);
    expect(await notes.handleToolCall("notes_search", { query: "dentist" })).toEqual({
      notes: [{ text: "My dentist is Dr Okafor.", session_id: "s-a", at: 1_000 }],
    });
    const bad: JsonObject[] = [{}, { query: " " }, { query: "x", limit: 21 }, { query: "x", extra: true }];
    for (const args of bad) {
      const error = await Promise.resolve(notes.handleToolCall("notes_search", args)).catch(
        (e: unknown) => e,
      );
      expect(isEngramError(error) && error.code).toBe("INVALID_ARGUMENT");
    }
    const unknown = await Promise.resolve(notes.handleToolCall("notes_add", {})).catch((e: unknown) => e);
    expect(isEngramError(unknown) && unknown.code).toBe("TOOL_NOT_HANDLED");
  });

  it("is unavailable when a file stands where its folder should be", async () => {
    await writeFile(join(dir, "blocker"), "");
    const blocked = new NotesProvider({
      config: notesConfigSchema.parse({ dir: join(dir, "blocker", "notes") }),
    });
    expect(blocked.isAvailable()).toBe(false);
    expect(provider().isAvailable()).toBe(true);
    expect(
      new NotesProvider({ config: notesConfigSchema.parse({ dir: join(dir, "a", "b") }) }).isAvailable(),
    ).toBe(true);
  });
});
