import { describe, expect, it } from "vitest";
import { fnv1a, transcriptSignature } from "./signature.js";

describe("FNV-1a transcript signature", () => {
  it("matches the published FNV-1a 32-bit test vectors", () => {
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });

  it("changes with role, timestamp or content, and only then", () => {
    const base = [
      { role: "user", createdAt: 1, content: "hi" },
      { role: "assistant", createdAt: 2, content: "hello" },
    ];
    const same = transcriptSignature(base.map((m) => ({ ...m })));
    expect(transcriptSignature(base)).toBe(same);
    expect(transcriptSignature([base[0]!, { ...base[1]!, content: "hello!" }])).not.toBe(same);
    expect(transcriptSignature([base[0]!, { ...base[1]!, createdAt: 3 }])).not.toBe(same);
    expect(transcriptSignature([base[0]!, { ...base[1]!, role: "user" }])).not.toBe(same);
    expect(
      transcriptSignature([
        { role: "user", createdAt: 1, content: "a" },
        { role: "user", createdAt: 1, content: "bc" },
      ]),
    ).not.toBe(
      transcriptSignature([
        { role: "user", createdAt: 1, content: "ab" },
        { role: "user", createdAt: 1, content: "c" },
      ]),
    );
  });
});
