import type {
  Clock,
  EngramError,
  NewTranscriptMessage,
  WebSessionPatch,
  WebSessionStore,
} from "@engram/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ManualClock, manualClock } from "../routing-index/routing-index.conformance.js";

/** A session created outside the web UI (CLI, gateway), written through the backend's transcript layer. */
export interface ExternalSessionInput {
  readonly id: string;
  readonly source: string;
  readonly title?: string;
  readonly messages: readonly NewTranscriptMessage[];
}

/**
 * One implementation under test. `createStore` is called before every test, after `reset`; stores
 * created for one test share state (two "web servers" on one database).
 */
export interface WebSessionStoreTestInitializer {
  readonly name: string;
  readonly beforeAll?: () => Promise<void>;
  readonly afterAll?: () => Promise<void>;
  readonly beforeAllTimeout?: number;
  readonly reset?: () => Promise<void>;
  readonly createStore: (props: { clock: Clock }) => WebSessionStore | Promise<WebSessionStore>;
  /** Adds a transcript session that the web UI does not list until it is imported. */
  readonly addExternalSession: (
    store: WebSessionStore,
    input: ExternalSessionInput,
    clock: Clock,
  ) => Promise<void>;
  /** Racers per race test (default 20). */
  readonly concurrency?: number;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as EngramError).code ?? `uncoded: ${String(error)}`;
  }
}

async function race<T>(count: number, task: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  let open!: () => void;
  const barrier = new Promise<void>((resolve) => {
    open = resolve;
  });
  const running = Array.from({ length: count }, async (_, i) => {
    await barrier;
    return task(i);
  });
  open();
  return Promise.allSettled(running);
}

const user = (content: string): NewTranscriptMessage => ({ role: "user", content });
const assistant = (content: string): NewTranscriptMessage => ({ role: "assistant", content });

/** The behaviour every `WebSessionStore` must have; registers one `describe` named after the initializer. */
export function webSessionStoreConformance(init: WebSessionStoreTestInitializer): void {
  const racers = init.concurrency ?? 20;

  describe(init.name, () => {
    let clock: ManualClock;
    let store: WebSessionStore;
    const ids = async () => (await store.list({ includeArchived: true })).map((session) => session.id);

    if (init.beforeAll) beforeAll(init.beforeAll, init.beforeAllTimeout);
    if (init.afterAll) afterAll(init.afterAll);
    beforeEach(async () => {
      await init.reset?.();
      clock = manualClock();
      store = await init.createStore({ clock });
    });

    describe("sessions", () => {
      it("creates a web session with defaults and reads its metadata back", async () => {
        const created = await store.create({ id: "a1", workspace: "/w", model: "m" });
        expect(created).toEqual({
          id: "a1",
          title: "Untitled",
          hasExplicitTitle: false,
          source: "web",
          workspace: "/w",
          model: "m",
          personality: null,
          profile: "default",
          projectId: null,
          pinned: false,
          archived: false,
          messageCount: 0,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
          createdAt: clock.now(),
          updatedAt: clock.now(),
        });
        expect(await store.getSummary("a1")).toEqual(created);
        expect(await store.get("a1")).toEqual({ ...created, messages: [] });
      });

      it("generates a path-safe id when none is given", async () => {
        const created = await store.create();
        expect(created.id).toMatch(/^[0-9a-z_-]{6,}$/);
      });

      it("rejects duplicate ids, unsafe ids and malformed fields, writing nothing", async () => {
        await store.create({ id: "a1" });
        expect(await codeOf(store.create({ id: "a1" }))).toBe("CONFLICT");
        expect(await codeOf(store.create({ id: "../x" }))).toBe("INVALID_ID");
        expect(await codeOf(store.create({ id: "a2", title: "" }))).toBe("INVALID_ARGUMENT");
        expect(await ids()).toEqual(["a1"]);
      });

      it("keeps titles unique among live sessions: a taken title is a CONFLICT", async () => {
        await store.create({ id: "a1", title: "Plan" });
        await store.create({ id: "a2" });
        expect(await codeOf(store.create({ id: "a3", title: "Plan" }))).toBe("CONFLICT");
        expect(await codeOf(store.updateMetadata("a2", { title: "Plan" }))).toBe("CONFLICT");
        expect((await store.getSummary("a2"))?.title).toBe("Untitled");
        await store.delete("a1");
        expect((await store.updateMetadata("a2", { title: "Plan" })).title).toBe("Plan");
      });

      it("reads unknown sessions as undefined and refuses to write them", async () => {
        expect(await store.get("nope")).toBeUndefined();
        expect(await store.getSummary("nope")).toBeUndefined();
        expect(await codeOf(store.updateMetadata("nope", { pinned: true }))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.appendMessages("nope", [user("hi")]))).toBe("SESSION_NOT_FOUND");
        expect(await codeOf(store.delete("nope"))).toBe("SESSION_NOT_FOUND");
      });

      it("soft-deletes: gone from reads and lists, and a second delete fails", async () => {
        await store.create({ id: "a1", title: "Keep me out" });
        await store.appendMessages("a1", [user("hello")]);
        await store.delete("a1");
        expect(await store.get("a1")).toBeUndefined();
        expect(await ids()).toEqual([]);
        expect(await codeOf(store.delete("a1"))).toBe("SESSION_NOT_FOUND");
      });

      it("renames, pins, archives and changes model, bumping updatedAt", async () => {
        await store.create({ id: "a1" });
        clock.advance(1000);
        const updated = await store.updateMetadata("a1", {
          title: "Plan",
          pinned: true,
          archived: true,
          model: "m2",
          personality: "terse",
          workspace: "/w2",
        });
        expect(updated).toMatchObject({
          title: "Plan",
          hasExplicitTitle: true,
          pinned: true,
          archived: true,
          model: "m2",
          personality: "terse",
          workspace: "/w2",
          updatedAt: clock.now(),
        });
      });
    });

    describe("titles", () => {
      it("derives the title from the first user message with text, cut to 64 characters", async () => {
        await store.create({ id: "a1" });
        await store.appendMessages("a1", [
          { role: "system", content: "you are helpful" },
          user("   "),
          user(`  ${"x".repeat(100)}`),
          user("second"),
        ]);
        const summary = await store.getSummary("a1");
        expect(summary).toMatchObject({ title: "x".repeat(64), hasExplicitTitle: false, messageCount: 4 });
      });

      it("derives the title from text parts when the user message has no plain content", async () => {
        await store.create({ id: "a1" });
        await store.appendMessages("a1", [
          {
            role: "user",
            parts: [
              { type: "image", url: "data:," },
              { type: "text", text: "describe" },
              { type: "text", text: "this picture" },
            ],
          },
        ]);
        expect((await store.getSummary("a1"))?.title).toBe("describe this picture");
      });

      it("prefers an explicit title, and an explicit 'Untitled' counts as none", async () => {
        await store.create({ id: "a1", title: "Mine" });
        await store.appendMessages("a1", [user("derived")]);
        expect((await store.getSummary("a1"))?.title).toBe("Mine");
        await store.updateMetadata("a1", { title: "Untitled" });
        expect(await store.getSummary("a1")).toMatchObject({ title: "derived", hasExplicitTitle: false });
      });
    });

    describe("listing", () => {
      it("lists pinned sessions first, then the most recently updated", async () => {
        await store.create({ id: "old", title: "old" });
        clock.advance(1000);
        await store.create({ id: "mid", title: "mid" });
        clock.advance(1000);
        await store.create({ id: "new", title: "new" });
        clock.advance(1000);
        await store.updateMetadata("old", { pinned: true });
        clock.advance(1000);
        await store.appendMessages("mid", [user("bump")]);
        expect(await ids()).toEqual(["old", "mid", "new"]);
      });

      it("hides empty untitled sessions once the 60 s grace period has passed", async () => {
        await store.create({ id: "empty" });
        await store.create({ id: "titled", title: "Named but empty" });
        await store.create({ id: "talked" });
        await store.appendMessages("talked", [user("hi")]);
        clock.advance(59_000);
        expect((await ids()).sort()).toEqual(["empty", "talked", "titled"]);
        clock.advance(2_000);
        expect((await ids()).sort()).toEqual(["talked", "titled"]);
        // Still there, just not listed: it can be opened and written.
        expect(await store.getSummary("empty")).toBeDefined();
      });

      it("filters by archive state, profile (missing profile = default) and project", async () => {
        await store.createProject({ id: "p1", name: "Project" });
        await store.create({ id: "a", title: "a" });
        await store.create({ id: "b", title: "b", profile: "work" });
        await store.create({ id: "c", title: "c", profile: "default", projectId: "p1" });
        await store.create({ id: "d", title: "d" });
        await store.updateMetadata("d", { archived: true });
        const listed = async (options: Parameters<WebSessionStore["list"]>[0]) =>
          (await store.list(options)).map((session) => session.id).sort();
        expect(await listed({})).toEqual(["a", "b", "c"]);
        expect(await listed({ includeArchived: true })).toEqual(["a", "b", "c", "d"]);
        expect(await listed({ profile: "default" })).toEqual(["a", "c"]);
        expect(await listed({ profile: "work" })).toEqual(["b"]);
        expect(await listed({ projectId: "p1" })).toEqual(["c"]);
        expect(await listed({ projectId: null })).toEqual(["a", "b"]);
        expect((await store.list({})).every((session) => session.profile !== "")).toBe(true);
      });

      it("pages with limit and offset", async () => {
        for (let i = 0; i < 7; i++) {
          await store.create({ id: `s${i}`, title: `t${i}` });
          clock.advance(10);
        }
        expect((await store.list({ limit: 3 })).map((s) => s.id)).toEqual(["s6", "s5", "s4"]);
        expect((await store.list({ limit: 3, offset: 6 })).map((s) => s.id)).toEqual(["s0"]);
        expect(await codeOf(store.list({ limit: 0 }))).toBe("INVALID_ARGUMENT");
      });

      it("returns metadata only: no message bodies in a listing", async () => {
        await store.create({ id: "a1", title: "T" });
        await store.appendMessages("a1", [user("question"), assistant("secret body ".repeat(50))]);
        const [listed] = await store.list();
        expect(listed).toBeDefined();
        expect(listed).not.toHaveProperty("messages");
        expect(JSON.stringify(listed)).not.toContain("secret body secret body");
      });
    });

    describe("saving messages", () => {
      it("appends a turn in order and reports what it wrote", async () => {
        await store.create({ id: "a1" });
        const first = await store.appendMessages("a1", [user("q1"), assistant("a1")]);
        expect(first.appended.map((m) => m.content)).toEqual(["q1", "a1"]);
        expect(first.summary.messageCount).toBe(2);
        await store.appendMessages("a1", [
          user("q2"),
          { role: "assistant", content: "a2", usage: { inputTokens: 10, outputTokens: 3, costUsd: 0.5 } },
        ]);
        const session = await store.get("a1");
        expect(session?.messages.map((m) => m.content)).toEqual(["q1", "a1", "q2", "a2"]);
        expect(session).toMatchObject({ messageCount: 4, inputTokens: 10, outputTokens: 3, costUsd: 0.5 });
        const messageIds = session?.messages.map((m) => m.id) ?? [];
        expect([...messageIds].sort((a, b) => a - b)).toEqual(messageIds);
      });

      it("writes nothing when any message of the turn is invalid", async () => {
        await store.create({ id: "a1" });
        const bad = { role: "wizard", content: "x" } as unknown as NewTranscriptMessage;
        expect(await codeOf(store.appendMessages("a1", [user("ok"), bad]))).toBe("INVALID_ARGUMENT");
        expect((await store.get("a1"))?.messages).toEqual([]);
      });

      it("keeps every message when many turns are saved concurrently", async () => {
        await store.create({ id: "a1" });
        const results = await race(racers, (i) =>
          store.appendMessages("a1", [user(`q${i}`), assistant(`a${i}`)]),
        );
        expect(results.every((result) => result.status === "fulfilled")).toBe(true);
        const session = await store.get("a1");
        expect(session?.messageCount).toBe(racers * 2);
        expect(new Set(session?.messages.map((m) => m.content))).toEqual(
          new Set(Array.from({ length: racers }, (_, i) => [`q${i}`, `a${i}`]).flat()),
        );
        // A turn's messages stay adjacent and in order.
        const contents = session?.messages.map((m) => m.content) ?? [];
        for (let i = 0; i < contents.length; i += 2)
          expect(contents[i + 1]).toBe(`a${contents[i]?.slice(1)}`);
      });

      it("with expectedCount, lets exactly one of several tabs saving the same turn win", async () => {
        await store.create({ id: "a1" });
        await store.appendMessages("a1", [user("q0")]);
        const results = await race(racers, (i) =>
          store.appendMessages("a1", [assistant(`tab${i}`)], { expectedCount: 1 }),
        );
        const won = results.filter((result) => result.status === "fulfilled");
        expect(won).toHaveLength(1);
        for (const result of results) {
          if (result.status === "rejected") expect((result.reason as EngramError).code).toBe("CONFLICT");
        }
        expect((await store.get("a1"))?.messageCount).toBe(2);
      });
    });

    describe("the seed-002 wipe bug cannot happen", () => {
      // Seed 002 cached a session loaded "metadata only" (messages = []) and a later rename saved that
      // object whole, replacing the transcript with an empty list. Here metadata writes name columns
      // and cannot carry messages at all.
      it("a rename and a pin after a metadata-only read keep every message", async () => {
        await store.create({ id: "a1" });
        await store.appendMessages("a1", [user("one"), assistant("two"), user("three")]);
        const summary = await store.getSummary("a1");
        expect(summary?.messageCount).toBe(3);
        await store.updateMetadata("a1", { title: "Renamed" });
        await store.updateMetadata("a1", { pinned: true });
        expect((await store.get("a1"))?.messages.map((m) => m.content)).toEqual(["one", "two", "three"]);
      });

      it("a metadata save built from a whole session object with an empty message list is ignored for messages", async () => {
        await store.create({ id: "a1" });
        await store.appendMessages("a1", [user("one"), assistant("two")]);
        const loaded = await store.get("a1");
        const careless = {
          ...loaded,
          messages: [],
          messageCount: 0,
          title: "New name",
        } as unknown as WebSessionPatch;
        await store.updateMetadata("a1", { title: careless.title, pinned: careless.pinned });
        const after = await store.get("a1");
        expect(after?.messages).toHaveLength(2);
        expect(after?.messageCount).toBe(2);
      });

      it("an append with no messages changes nothing", async () => {
        await store.create({ id: "a1" });
        await store.appendMessages("a1", [user("one")]);
        await store.appendMessages("a1", []);
        expect((await store.get("a1"))?.messages).toHaveLength(1);
      });
    });

    describe("truncating (undo)", () => {
      it("removes the tail only when the caller's expected count matches", async () => {
        await store.create({ id: "a1" });
        await store.appendMessages("a1", [user("q1"), assistant("a1"), user("q2"), assistant("a2")]);
        expect(await codeOf(store.truncateMessages("a1", { keep: 2, expectedCount: 3 }))).toBe("CONFLICT");
        expect((await store.get("a1"))?.messageCount).toBe(4);
        expect(await store.truncateMessages("a1", { keep: 2, expectedCount: 4 })).toBe(2);
        const session = await store.get("a1");
        expect(session?.messages.map((m) => m.content)).toEqual(["q1", "a1"]);
        expect(session?.messageCount).toBe(2);
        await store.appendMessages("a1", [user("q2'")]);
        expect((await store.get("a1"))?.messages.map((m) => m.content)).toEqual(["q1", "a1", "q2'"]);
      });

      it("rejects malformed guards", async () => {
        await store.create({ id: "a1" });
        expect(await codeOf(store.truncateMessages("a1", { keep: -1, expectedCount: 0 }))).toBe(
          "INVALID_ARGUMENT",
        );
        expect(await codeOf(store.truncateMessages("nope", { keep: 0, expectedCount: 0 }))).toBe(
          "SESSION_NOT_FOUND",
        );
      });
    });

    describe("importing CLI and gateway sessions", () => {
      it("makes an existing session visible with its messages, without moving it to the top", async () => {
        await init.addExternalSession(
          store,
          {
            id: "cli1",
            source: "cli",
            messages: [user("from the terminal"), assistant("ok")],
          },
          clock,
        );
        const importedAt = clock.now();
        expect(await store.getSummary("cli1")).toBeUndefined();
        clock.advance(5000);
        await store.create({ id: "web1", title: "web" });
        const summary = await store.importSession("cli1", { profile: "work" });
        expect(summary).toMatchObject({
          id: "cli1",
          source: "cli",
          title: "from the terminal",
          profile: "work",
          messageCount: 2,
          updatedAt: importedAt,
        });
        expect((await store.get("cli1"))?.messages.map((m) => m.content)).toEqual([
          "from the terminal",
          "ok",
        ]);
        expect(await ids()).toEqual(["web1", "cli1"]);
      });

      it("is idempotent and keeps an existing title", async () => {
        await init.addExternalSession(
          store,
          { id: "gw1", source: "telegram", title: "Chat", messages: [] },
          clock,
        );
        await store.importSession("gw1", { title: "Other" });
        const again = await store.importSession("gw1");
        expect(again).toMatchObject({ title: "Chat", source: "telegram" });
        expect(await codeOf(store.importSession("missing"))).toBe("SESSION_NOT_FOUND");
      });

      it("appends to an imported session like any web session", async () => {
        await init.addExternalSession(store, { id: "cli1", source: "cli", messages: [user("q")] }, clock);
        await store.importSession("cli1");
        await store.appendMessages("cli1", [assistant("a")]);
        expect((await store.get("cli1"))?.messages.map((m) => m.content)).toEqual(["q", "a"]);
      });
    });

    describe("projects", () => {
      it("creates, lists, renames and deletes projects; deleting frees their sessions", async () => {
        const project = await store.createProject({ id: "p1", name: "Alpha", color: "#f00" });
        expect(project).toMatchObject({ id: "p1", name: "Alpha", color: "#f00" });
        clock.advance(10);
        await store.createProject({ id: "p2", name: "Beta" });
        expect((await store.listProjects()).map((p) => p.id)).toEqual(["p1", "p2"]);
        expect(await store.updateProject("p1", { name: "Alpha 2", color: null })).toMatchObject({
          name: "Alpha 2",
          color: null,
        });
        await store.create({ id: "a1", title: "a1" });
        expect((await store.updateMetadata("a1", { projectId: "p1" })).projectId).toBe("p1");
        expect(await store.deleteProject("p1")).toBe(true);
        expect(await store.deleteProject("p1")).toBe(false);
        expect((await store.getSummary("a1"))?.projectId).toBeNull();
        expect((await store.listProjects()).map((p) => p.id)).toEqual(["p2"]);
      });

      it("refuses unknown projects and bad names", async () => {
        await store.create({ id: "a1" });
        expect(await codeOf(store.updateMetadata("a1", { projectId: "ghost" }))).toBe("NOT_FOUND");
        expect(await codeOf(store.create({ id: "a2", projectId: "ghost" }))).toBe("NOT_FOUND");
        expect(await codeOf(store.updateProject("ghost", { name: "x" }))).toBe("NOT_FOUND");
        expect(await codeOf(store.createProject({ name: "" }))).toBe("INVALID_ARGUMENT");
        await store.createProject({ id: "p1", name: "x" });
        expect(await codeOf(store.createProject({ id: "p1", name: "y" }))).toBe("CONFLICT");
      });
    });
  });
}
