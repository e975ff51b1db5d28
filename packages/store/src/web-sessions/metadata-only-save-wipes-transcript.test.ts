/**
 * Regression: seed 002's web UI lost whole conversations. `get_session(sid, metadata_only=True)` (used
 * for fast sidebar switching) cached a `Session` whose `messages` was `[]`; the next `rename`/`pin`
 * called `save()` on that cached object, which wrote the whole JSON file — empty message list
 * included — over the real transcript.
 *
 * The fix here is structural: metadata writes are column UPDATEs that cannot carry messages, messages
 * are only ever appended (or truncated by a named, count-guarded call), and the cache stores only
 * sessions read whole. This file replays the seed's sequence through the cache on both stores.
 */
import { InMemoryWebSessionStore, type WebSessionStore } from "@engram/core";
import { describe, expect, it } from "vitest";
import { manualClock } from "../routing-index/routing-index.conformance.js";
import { CachedWebSessionStore } from "./cached-web-session-store.js";

async function replaySeedSequence(store: WebSessionStore): Promise<void> {
  await store.create({ id: "conv" });
  await store.appendMessages("conv", [
    { role: "user", content: "plan the trip" },
    { role: "assistant", content: "here is a plan" },
  ]);
  // The sidebar: metadata-only reads, as many as the user clicks.
  await store.list();
  await store.getSummary("conv");
  // The user renames and pins the conversation from the sidebar.
  await store.updateMetadata("conv", { title: "Trip" });
  await store.updateMetadata("conv", { pinned: true });
}

describe("a metadata-only read followed by a metadata save never wipes the transcript", () => {
  it("through the cache", async () => {
    const cache = new CachedWebSessionStore(new InMemoryWebSessionStore({ clock: manualClock() }), {
      maxEntries: 2,
    });
    await replaySeedSequence(cache);
    const opened = await cache.get("conv");
    expect(opened).toMatchObject({ title: "Trip", pinned: true, messageCount: 2 });
    expect(opened?.messages.map((m) => m.content)).toEqual(["plan the trip", "here is a plan"]);
  });

  it("when the session was already cached whole before the metadata-only reads", async () => {
    const inner = new InMemoryWebSessionStore({ clock: manualClock() });
    const cache = new CachedWebSessionStore(inner, { maxEntries: 2 });
    await cache.create({ id: "warm" });
    await cache.appendMessages("warm", [{ role: "user", content: "kept" }]);
    await cache.get("warm");
    await cache.getSummary("warm");
    await cache.updateMetadata("warm", { title: "Renamed" });
    expect((await cache.get("warm"))?.messages.map((m) => m.content)).toEqual(["kept"]);
    expect((await inner.get("warm"))?.messages.map((m) => m.content)).toEqual(["kept"]);
  });
});
