import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIServerHandle, startOpenAIServer } from "./openai-server.js";

let server: OpenAIServerHandle;
beforeAll(async () => {
  server = await startOpenAIServer();
});
afterAll(async () => {
  await server.close();
});

const post = (body: unknown) =>
  fetch(`${server.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("stand-in OpenAI server", () => {
  it("answers scripted replies in order and records each request", async () => {
    server.script({ text: "one", usage: { promptTokens: 2, completionTokens: 1 } }, { text: "two" });
    const first = (await (await post({ model: "m", messages: [] })).json()) as {
      choices: { message: { content: string } }[];
      usage: unknown;
    };
    const second = (await (await post({ model: "m", messages: [] })).json()) as {
      choices: { message: { content: string } }[];
    };
    expect(first.choices[0]?.message.content).toBe("one");
    expect(first.usage).toEqual({ prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 });
    expect(second.choices[0]?.message.content).toBe("two");
    expect(server.requests.slice(-2).map((r) => r.body.model)).toEqual(["m", "m"]);
  });

  it("streams server-sent events ending with [DONE]", async () => {
    server.script({ text: "hello world", toolCalls: [{ id: "c", name: "t", arguments: '{"a":1}' }] });
    const text = await (await post({ model: "m", messages: [], stream: true })).text();
    const events = text.split("\n\n").filter((e) => e !== "");
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("hello world");
  });

  it("injects scripted HTTP errors and 404s unknown routes", async () => {
    server.script({ kind: "error", status: 429 });
    expect((await post({ model: "m", messages: [] })).status).toBe(429);
    expect((await fetch(`${server.baseUrl}/models`)).status).toBe(404);
  });
});
