import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { OpenVikingClient } from "../client/openviking-client.js";
import { OpenVikingMemoryProvider } from "./openviking-memory-provider.js";

/**
 * Opt-in: the same wire calls against a real OpenViking server. Set `OPENVIKING_URL` (and
 * `OPENVIKING_API_KEY` when it requires one). Extraction on a real server needs its models, so this
 * suite checks the wire contract (health, envelope, writes, commit task, search shape), not recall.
 */
const url = process.env.OPENVIKING_URL?.trim();
const apiKey = process.env.OPENVIKING_API_KEY?.trim() || undefined;
if (!url) console.info("[openviking] real-server suite skipped: set OPENVIKING_URL to run it");

describe.skipIf(!url)("OpenViking provider against a real server (OPENVIKING_URL)", () => {
  const baseUrl = url ?? "";
  const keyProps = apiKey === undefined ? {} : { apiKey };

  it("probes health and round-trips a session through batch writes, a commit task and search", async () => {
    const client = new OpenVikingClient({ baseUrl, ...keyProps, timeoutMs: 30_000 });
    expect((await client.health()).healthy).toBe(true);
    const sessionId = `engram-${randomUUID().slice(0, 8)}`;
    await client.post("/api/v1/sessions", { session_id: sessionId });
    const provider = new OpenVikingMemoryProvider({ baseUrl, ...keyProps, timeoutMs: 30_000 });
    provider.initialize({ sessionId, platform: "test", agentContext: "primary", extra: {} });
    await provider.syncTurn(
      { user: "I prefer green tea.", assistant: "Noted.", timestamp: Date.now() },
      { sessionId },
    );
    const session = await client.get<{ message_count: number }>(`/api/v1/sessions/${sessionId}`);
    expect(session.message_count).toBeGreaterThanOrEqual(2);
    await provider.onSessionEnd([]);
    const search = await client.post<Record<string, unknown>>("/api/v1/search/find", {
      query: "tea",
      limit: 3,
    });
    expect(Array.isArray(search.memories)).toBe(true);
    await provider.shutdown();
    await client.delete(`/api/v1/sessions/${sessionId}`);
  });
});
