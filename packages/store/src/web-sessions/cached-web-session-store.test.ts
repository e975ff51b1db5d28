import {
  type AppendWebMessagesOptions,
  type AppendWebMessagesResult,
  InMemoryWebSessionStore,
  type NewTranscriptMessage,
  type WebSession,
} from "@engram/core";
import { beforeEach, describe, expect, it } from "vitest";
import { manualClock } from "../routing-index/routing-index.conformance.js";
import { CachedWebSessionStore } from "./cached-web-session-store.js";
import { webSessionStoreConformance } from "./web-session-store.conformance.js";

/** The reference store, counting full loads (the expensive read the cache exists to avoid). */
class CountingStore extends InMemoryWebSessionStore {
  loads = 0;
  /** When set, appends wait for it: lets a test hold a write in flight. */
  gate: Promise<void> | undefined;

  override async get(sessionId: string): Promise<WebSession | undefined> {
    this.loads++;
    return super.get(sessionId);
  }

  override async appendMessages(
    sessionId: string,
    messages: readonly NewTranscriptMessage[],
    options?: AppendWebMessagesOptions,
  ): Promise<AppendWebMessagesResult> {
    await this.gate;
    return super.appendMessages(sessionId, messages, options);
  }
}

// The cache is transparent: it passes the same suite as the store behind it.
let inner: InMemoryWebSessionStore | undefined;
webSessionStoreConformance({
  name: "CachedWebSessionStore over InMemoryWebSessionStore",
  createStore: ({ clock }) => {
    inner = new InMemoryWebSessionStore({ clock });
    return new CachedWebSessionStore(inner, { maxEntries: 4 });
  },
  addExternalSession: async (_store, input) => {
    inner?.addTranscriptSession(input);
  },
});

const user = (content: string): NewTranscriptMessage => ({ role: "user", content });

describe("CachedWebSessionStore", () => {
  let clock: ReturnType<typeof manualClock>;
  let store: CountingStore;
  let cache: CachedWebSessionStore;

  beforeEach(async () => {
    clock = manualClock();
    store = new CountingStore({ clock });
    cache = new CachedWebSessionStore(store, { maxEntries: 3 });
    for (const id of ["a", "b", "c", "d", "e"]) {
      await store.create({ id, title: id });
      await store.appendMessages(id, [user(`hello ${id}`)]);
    }
  });

  it("serves repeated opens from memory while the session is unchanged", async () => {
    await cache.get("a");
    await cache.get("a");
    const again = await cache.get("a");
    expect(again?.messages.map((m) => m.content)).toEqual(["hello a"]);
    expect(store.loads).toBe(1);
  });

  it("reloads when another writer changed the session behind the cache", async () => {
    await cache.get("a");
    clock.advance(1);
    await store.appendMessages("a", [user("from another process")]);
    expect((await cache.get("a"))?.messages.map((m) => m.content)).toEqual([
      "hello a",
      "from another process",
    ]);
    expect(store.loads).toBe(2);
  });

  it("extends the cached transcript on an append through it, without reloading", async () => {
    await cache.get("a");
    clock.advance(1);
    await cache.appendMessages("a", [user("more")]);
    expect((await cache.get("a"))?.messages.map((m) => m.content)).toEqual(["hello a", "more"]);
    expect(store.loads).toBe(1);
  });

  it("evicts the least recently used session beyond its capacity", async () => {
    for (const id of ["a", "b", "c"]) await cache.get(id);
    await cache.get("a");
    await cache.get("d");
    expect(["a", "b", "c", "d"].filter((id) => cache.has(id))).toEqual(["a", "c", "d"]);
  });

  it("never evicts a pinned session, and trims back once it is released", async () => {
    const release = cache.pin("a");
    for (const id of ["a", "b", "c", "d", "e"]) await cache.get(id);
    expect(cache.has("a")).toBe(true);
    expect(cache.size).toBe(3);
    const second = cache.pin("a");
    release();
    release();
    expect(cache.isPinned("a")).toBe(true);
    await cache.get("b");
    expect(cache.has("a")).toBe(true);
    second();
    expect(cache.isPinned("a")).toBe(false);
    await cache.get("c");
    expect(cache.has("a")).toBe(false);
  });

  it("lets pinned sessions exceed the capacity rather than dropping any of them", async () => {
    const releases = ["a", "b", "c", "d"].map((id) => cache.pin(id));
    for (const id of ["a", "b", "c", "d", "e"]) await cache.get(id);
    expect(["a", "b", "c", "d"].every((id) => cache.has(id))).toBe(true);
    expect(cache.has("e")).toBe(false);
    for (const release of releases) release();
    expect(cache.size).toBe(3);
  });

  it("never evicts a session while a write to it is in flight", async () => {
    await cache.get("a");
    let open!: () => void;
    store.gate = new Promise((resolve) => {
      open = resolve;
    });
    clock.advance(1);
    const writing = cache.appendMessages("a", [user("unsaved")]);
    expect(cache.isPinned("a")).toBe(true);
    for (const id of ["b", "c", "d", "e"]) await cache.get(id);
    expect(cache.has("a")).toBe(true);
    open();
    await writing;
    expect(cache.isPinned("a")).toBe(false);
    // The write extended the held copy; the cache is back within capacity and still serves it whole.
    expect(cache.size).toBe(3);
    const loads = store.loads;
    expect((await cache.get("a"))?.messages.map((m) => m.content)).toEqual(["hello a", "unsaved"]);
    expect(store.loads).toBe(loads);
  });

  it("drops the cached copy on truncate and delete", async () => {
    await cache.get("a");
    await cache.truncateMessages("a", { keep: 0, expectedCount: 1 });
    expect(cache.has("a")).toBe(false);
    expect((await cache.get("a"))?.messages).toEqual([]);
    await cache.delete("a");
    expect(cache.has("a")).toBe(false);
    expect(await cache.get("a")).toBeUndefined();
  });

  it("rejects a negative capacity", () => {
    expect(() => new CachedWebSessionStore(store, { maxEntries: -1 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});
