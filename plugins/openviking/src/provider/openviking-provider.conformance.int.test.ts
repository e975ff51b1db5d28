// The provider conformance kit (@engram/testkit) on the OpenViking provider, against
// the stand-in server in process memory. The probe reads what reached the server: the message writes,
// by the session id in their path.
import type { MemoryProviderTestInitializer } from "@engram/testkit";
import { type OpenVikingServerHandle, startOpenVikingServer } from "@engram/testkit/openviking-server";
import { describeMemoryProvider } from "@engram/testkit/vitest";
import { OpenVikingMemoryProvider } from "./openviking-memory-provider.js";

let server: OpenVikingServerHandle | undefined;

interface WrittenMessage {
  content?: string;
  parts?: { text?: string; tool_name?: string }[];
}

const initializer: MemoryProviderTestInitializer<OpenVikingMemoryProvider> = {
  name: "OpenVikingMemoryProvider (stand-in server)",
  beforeAll: async () => {
    server = await startOpenVikingServer();
  },
  afterAll: async () => {
    await server?.close();
  },
  // The provider keeps one memory per API key (README, "one key or server per person"): it does not
  // separate the scopes a host passes, so the cross-scope check would fail by design.
  skip: ["otherScopesNeverRecallIt"],
  createProvider: () => {
    if (!server) throw new Error("server not started");
    return new OpenVikingMemoryProvider({ baseUrl: server.url, timeoutMs: 2_000 });
  },
  probe: async () => {
    if (!server) throw new Error("server not started");
    await server.idle();
    const writes: { sessionId: string | undefined; text: string }[] = [];
    for (const request of server.requests) {
      const match = request.path.match(/^\/api\/v1\/sessions\/([^/]+)\/messages(\/batch)?$/);
      if (request.method !== "POST" || !match) continue;
      const sessionId = decodeURIComponent(match[1] ?? "");
      const body = request.body as { messages?: WrittenMessage[] } & WrittenMessage;
      for (const message of match[2] ? (body.messages ?? []) : [body]) {
        const text =
          message.content ?? (message.parts ?? []).map((p) => p.text ?? p.tool_name ?? "").join("\n");
        writes.push({ sessionId, text });
      }
    }
    return { writes };
  },
  sampleToolCalls: [
    { name: "viking_search", args: { query: "conformance" } },
    { name: "viking_browse", args: {} },
    { name: "viking_remember", args: { content: "The conformance kit likes tests." } },
  ],
  timeouts: { hookMs: 5_000, syncTurnMs: 1_000, shutdownMs: 2_000, toolMs: 5_000 },
};

describeMemoryProvider(initializer);
