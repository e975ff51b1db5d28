import { expect, it } from "vitest";
import { describeEachBackend } from "../testing/index.js";
import { PostgresTranscriptStore } from "./postgres-transcript-store.js";
import { listenForTranscriptChanges } from "./transcript-notifications.js";

describeEachBackend("transcript change notifications", ({ database }) => {
  it("notifies the session id of every new message and session update, and stops when asked", async () => {
    const heard: string[] = [];
    const stop = await listenForTranscriptChanges(database(), (sessionId) => heard.push(sessionId));
    const store = new PostgresTranscriptStore(database().db);
    await store.createSession({ id: "notify_a", source: "telegram" });
    await store.appendMessage("notify_a", { role: "user", content: "hello" });
    await store.updateSession("notify_a", { title: "Renamed" });
    await expect
      .poll(() => heard.filter((id) => id === "notify_a").length, { timeout: 5_000 })
      .toBeGreaterThanOrEqual(2);
    await stop();
    const before = heard.length;
    await store.appendMessage("notify_a", { role: "assistant", content: "after stop" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard.length).toBe(before);
  });
});
