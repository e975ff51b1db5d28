/**
 * The complete provider in @engram/core's README is real code: extracted from the README, it loads,
 * stays under 60 lines, its plugin accepts this core, and it passes the whole conformance kit,
 * recall checks included.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { assertPluginCompatible, isEngramPlugin, type MemoryProvider } from "@engram/core";
import { describe, expect, it } from "vitest";
import { runMemoryProviderChecks } from "../src/conformance/run-conformance.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const README = join(HERE, "../../core/README.md");

async function readmeProvider(): Promise<{ source: string; file: string }> {
  const text = await readFile(README, "utf8");
  const section = text.slice(text.indexOf("## A complete provider"));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1])
    throw new Error("no ```ts block under '## A complete provider' in packages/core/README.md");
  // Inside the package, so `@engram/core` resolves the way it does for a provider author.
  const dir = join(HERE, "../node_modules/.cache/engram-core-readme");
  await mkdir(dir, { recursive: true });
  const file = join(dir, "facts-provider.ts");
  await writeFile(file, match[1]);
  return { source: match[1], file };
}

describe("the provider in @engram/core's README", () => {
  it("is under 60 lines, and its plugin accepts this core", async () => {
    const { source, file } = await readmeProvider();
    expect(source.trimEnd().split("\n").length).toBeLessThan(60);
    const module = (await import(file)) as { default: unknown };
    expect(isEngramPlugin(module.default)).toBe(true);
    if (isEngramPlugin(module.default))
      expect(() => assertPluginCompatible(module.default as never)).not.toThrow();
  });

  it("passes the conformance kit, recall across sessions included", async () => {
    const { file } = await readmeProvider();
    const { FactsProvider } = (await import(file)) as {
      FactsProvider: new (scopes: Map<string, Set<string>>) => MemoryProvider;
    };
    const scopes = new Map<string, Set<string>>();
    const report = await runMemoryProviderChecks({
      name: "README FactsProvider",
      createProvider: () => new FactsProvider(scopes),
      sampleToolCalls: [{ name: "facts_search", args: { query: "tea" } }],
    });
    expect(report.failed).toEqual([]);
    const recall = report.outcomes.find((o) => o.id === "committedMemoryIsRecalledInALaterSession");
    expect(recall?.result).toEqual({ ok: true });
  }, 30_000);
});
