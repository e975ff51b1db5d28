import { readFileSync } from "node:fs";
import { assertPluginCompatible, ENGRAM_CORE_VERSION } from "@engram/core";
import { describe, expect, it } from "vitest";
import plugin from "./discord-plugin.js";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
  peerDependencies: Record<string, string>;
};

describe("the adapter plugin's declared versions", () => {
  it("are its package.json version and @engram/core peer range, so a release cannot leave them behind", () => {
    expect(plugin.version).toBe(manifest.version);
    expect(plugin.engram).toBe(manifest.peerDependencies["@engram/core"]?.replace(/^workspace:/, ""));
  });

  it("accept the core of this workspace", () => {
    expect(() => assertPluginCompatible(plugin, ENGRAM_CORE_VERSION)).not.toThrow();
  });
});
