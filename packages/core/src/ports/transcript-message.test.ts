import { describe, expect, it } from "vitest";
import { prepareTranscriptMessage, transcriptMessageText } from "./transcript-message.js";

const NOW = Date.UTC(2026, 0, 1);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe("prepareTranscriptMessage", () => {
  it("serialises JSON fields, counts tool calls and defaults the time to now", () => {
    const prepared = prepareTranscriptMessage(
      {
        role: "assistant",
        content: "hi",
        toolCalls: [{ id: "a" }, { id: "b" }],
        parts: [{ type: "text", text: "hi" }],
      },
      1024,
      NOW,
    );
    expect(prepared).toMatchObject({
      role: "assistant",
      content: "hi",
      toolCalls: '[{"id":"a"},{"id":"b"}]',
      parts: '[{"type":"text","text":"hi"}]',
      toolCallCount: 2,
      observed: false,
      platformMessageId: null,
    });
    expect(prepared.createdAt.getTime()).toBe(NOW);
  });

  it("measures the limit in UTF-8 bytes over content and serialised JSON", () => {
    // "€" is 3 bytes: 4 of them are 12 bytes.
    expect(
      codeOf(() => prepareTranscriptMessage({ role: "user", content: "€€€€" }, 12, NOW)),
    ).toBeUndefined();
    expect(codeOf(() => prepareTranscriptMessage({ role: "user", content: "€€€€" }, 11, NOW))).toBe(
      "CONTENT_TOO_LARGE",
    );
    expect(
      codeOf(() =>
        prepareTranscriptMessage({ role: "tool", content: "", toolResults: { v: "x".repeat(20) } }, 16, NOW),
      ),
    ).toBe("CONTENT_TOO_LARGE");
  });

  it("rejects unknown roles, non-JSON values, bad usage and empty platform ids", () => {
    expect(codeOf(() => prepareTranscriptMessage({ role: "robot" as never }, 1024, NOW))).toBe(
      "INVALID_ARGUMENT",
    );
    expect(codeOf(() => prepareTranscriptMessage({ role: "user", parts: 10n }, 1024, NOW))).toBe(
      "INVALID_ARGUMENT",
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(codeOf(() => prepareTranscriptMessage({ role: "user", toolResults: circular }, 1024, NOW))).toBe(
      "INVALID_ARGUMENT",
    );
    expect(
      codeOf(() => prepareTranscriptMessage({ role: "user", usage: { inputTokens: 1.5 } }, 1024, NOW)),
    ).toBe("INVALID_ARGUMENT");
    expect(
      codeOf(() => prepareTranscriptMessage({ role: "user", usage: { costUsd: Number.NaN } }, 1024, NOW)),
    ).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => prepareTranscriptMessage({ role: "user", platformMessageId: "" }, 1024, NOW))).toBe(
      "INVALID_ARGUMENT",
    );
  });
});

describe("transcriptMessageText", () => {
  it("prefers content and otherwise joins the text parts", () => {
    expect(transcriptMessageText("plain", [{ type: "text", text: "ignored" }])).toBe("plain");
    expect(
      transcriptMessageText(null, [
        { type: "text", text: "a" },
        { type: "image_url", url: "x" },
        { type: "text", text: "" },
        { type: "text", text: "b" },
      ]),
    ).toBe("a\nb");
    expect(transcriptMessageText(null, "not parts")).toBe("");
  });
});
