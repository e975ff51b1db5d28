import { isToolSchema } from "@engram/core";
import { describe, expect, it } from "vitest";
import { parseForgetArgs, parseReadArgs, VIKING_TOOL_NAMES, VIKING_TOOL_SCHEMAS } from "./viking-tools.js";

const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe("viking tools", () => {
  it("declares one valid schema per tool name", () => {
    expect(VIKING_TOOL_SCHEMAS.map((s) => s.name)).toEqual([...VIKING_TOOL_NAMES]);
    for (const schema of VIKING_TOOL_SCHEMAS) expect(isToolSchema(schema)).toBe(true);
  });

  it("forgets exact memory files only", () => {
    expect(parseForgetArgs({ uri: "viking://user/alice/memories/preferences/mem_1.md" })).toEqual({
      uri: "viking://user/alice/memories/preferences/mem_1.md",
    });
    expect(parseForgetArgs({ uri: "viking://~/memories/profile.md" }).uri).toBe(
      "viking://~/memories/profile.md",
    );
    for (const uri of [
      "viking://user/alice/memories/preferences",
      "viking://user/alice/memories/preferences/",
      "viking://user/alice/memories/.overview.md",
      "viking://user/alice/memories/../sessions/x.md",
      "viking://user/alice/sessions/s1/messages.md",
      "viking://resources/guide.md",
      "file:///etc/passwd",
    ]) {
      expect(
        codeOf(() => parseForgetArgs({ uri })),
        uri,
      ).toBe("INVALID_ARGUMENT");
    }
  });

  it("reads at overview level unless told otherwise", () => {
    expect(parseReadArgs({ uri: "viking://x" })).toEqual({ uri: "viking://x", level: "overview" });
    expect(codeOf(() => parseReadArgs({ uri: "viking://x", level: 2 }))).toBe("INVALID_ARGUMENT");
  });
});
