import { fenceMemoryContext } from "@engram/core";
import { describe, expect, it } from "vitest";
import type { ChatRequest, ChatStreamEvent } from "./chat-model.js";
import { OfflineModel } from "./offline-model.js";

const request = (content: string): ChatRequest => ({
  messages: [
    { role: "user", content: "an earlier message" },
    { role: "assistant", content: "an earlier reply" },
    { role: "user", content },
  ],
});

async function collect(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe("OfflineModel", () => {
  it("echoes the current user message and says what the memory-context block recalled", async () => {
    const content = `What do I like?\n\n${fenceMemoryContext("The user likes green tea.")}`;
    const { text, toolCalls } = await new OfflineModel().complete(request(content));
    expect(text).toBe(
      "[offline model] You said: What do I like? — From memory I recall: The user likes green tea.",
    );
    expect(toolCalls).toEqual([]);
  });

  it("says honestly that nothing was recalled when the message has no memory block", async () => {
    const { text } = await new OfflineModel().complete(request("hello"));
    expect(text).toBe("[offline model] You said: hello — Nothing was recalled from memory.");
  });

  it("streams word by word and the deltas add up to the completed text", async () => {
    const model = new OfflineModel();
    const req = request(`tea? ${fenceMemoryContext("likes tea")}`);
    const events = await collect(model.stream(req));
    const deltas = events.flatMap((e) => (e.type === "text" ? [e.delta] : []));
    expect(deltas.length).toBeGreaterThan(5);
    const done = events.at(-1);
    expect(done?.type).toBe("done");
    expect(deltas.join("")).toBe((await model.complete(req)).text);
  });

  it("stops streaming with an AbortError when the signal aborts", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const run = async () => {
      for await (const event of new OfflineModel().stream(request("one two three four"), {
        signal: controller.signal,
      })) {
        if (event.type === "text") seen.push(event.delta);
        if (seen.length === 2) controller.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ name: "AbortError" });
    expect(seen).toHaveLength(2);
  });
});
