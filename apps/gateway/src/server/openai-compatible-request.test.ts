import { describe, expect, it } from "vitest";
import { type ConversationTurn, conversationOf, newUserTurns } from "./openai-compatible-request.js";

const u = (content: string): ConversationTurn => ({ role: "user", content });
const a = (content: string): ConversationTurn => ({ role: "assistant", content });

describe("newUserTurns", () => {
  it("takes only the turn after the history the transcript already ends with", () => {
    expect(newUserTurns([u("one"), a("A1"), u("two")], [u("one"), a("A1")])).toEqual([u("two")]);
  });

  it("takes a first message of a new conversation whole", () => {
    expect(newUserTurns([u("hi")], [])).toEqual([u("hi")]);
  });

  it("does not repeat a user turn the transcript kept without a reply (a stopped turn)", () => {
    expect(newUserTurns([u("one"), a("A1"), u("two"), u("three")], [u("one"), a("A1"), u("two")])).toEqual([
      u("three"),
    ]);
  });

  it("never appends the client's own assistant messages or what comes before them", () => {
    expect(newUserTurns([u("x"), a("not ours"), u("y"), u("z")], [u("one"), a("A1")])).toEqual([
      u("y"),
      u("z"),
    ]);
  });

  it("finds the known history at the end of a longer transcript", () => {
    const stored = [u("older"), a("O1"), u("one"), a("A1")];
    expect(newUserTurns([u("one"), a("A1"), u("two")], stored)).toEqual([u("two")]);
  });

  it("has nothing to run when the conversation does not end with a user message", () => {
    expect(newUserTurns([u("one"), a("A1")], [])).toEqual([]);
  });
});

describe("conversationOf", () => {
  it("keeps user and assistant text, joins text parts and skips system, tool and tool-call-only messages", () => {
    expect(
      conversationOf([
        { role: "system", content: "be brief" },
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" },
          ],
        },
        { role: "assistant", content: null, tool_calls: [{}] },
        { role: "tool", content: "42", tool_call_id: "c1" },
        { role: "assistant", content: "done" },
        { role: "user", content: "bad\u0000byte" },
      ]),
    ).toEqual({ turns: [u("ab"), a("done"), u("bad\uFFFDbyte")] });
  });

  it("reports the first message with content it cannot take", () => {
    expect(
      conversationOf([
        { role: "user", content: "fine" },
        { role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] },
      ]),
    ).toEqual({ unsupported: 1 });
  });
});
