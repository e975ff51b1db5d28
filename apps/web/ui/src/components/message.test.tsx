/**
 * Regression: a restart continuation note is stored as a `system` message, and both transcript views
 * (web sessions and the gateway's messaging sessions) showed it as the agent speaking ("Agent said:",
 * the assistant's bubble). It is a system note now, in every view.
 */
import { text } from "node:stream/consumers";
import type { ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { prerenderToNodeStream } from "react-dom/static";
import { describe, expect, it } from "vitest";
import type { SessionMessage } from "../api/client.js";
import { Message } from "./message.js";

const NOTE =
  "[System note: your previous turn in this conversation was interrupted by a gateway restart before it finished.]";
const render = (message: Partial<SessionMessage>) =>
  renderToStaticMarkup(<Message message={{ id: 1, role: "user", content: "", createdAt: 0, ...message }} />);

/** Markup once every lazy part (the markdown renderer) has loaded. */
async function renderComplete(element: ReactNode): Promise<string> {
  const { prelude } = await prerenderToNodeStream(element);
  return text(prelude);
}

describe("a transcript message", () => {
  it("shows a restart continuation note as a system note, never as the agent speaking", () => {
    const html = render({ role: "system", content: NOTE });
    expect(html).toContain('class="message system"');
    expect(html).toContain("System note");
    expect(html).not.toContain("Agent said");
    expect(html).toContain(NOTE);
  });

  it("names who speaks in the other rows", () => {
    expect(render({ role: "user", content: "hi" })).toContain("You said:");
    expect(render({ role: "assistant", content: "hello" })).toContain("Agent said:");
    expect(render({ role: "tool", content: "{}", toolName: "fact_store" })).toContain("fact_store result");
  });

  it("shows no empty bubble for an assistant step that only called tools", () => {
    expect(render({ role: "assistant", content: "", toolCalls: [{ id: "c1" }] })).toBe("");
    expect(render({ role: "assistant", content: null })).toBe("");
  });

  it("renders the agent's markdown (once its renderer has loaded) and its model without the server's address", async () => {
    const html = await renderComplete(
      <Message
        message={{ id: 1, role: "assistant", content: "**bold**", createdAt: 0 }}
        model="gpt-4o-mini@https://api.openai.com/v1"
      />,
    );
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain(">gpt-4o-mini<");
    expect(html).toContain('title="gpt-4o-mini@https://api.openai.com/v1"');
  });
});
