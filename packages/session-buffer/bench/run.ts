/**
 * Runs every `*.bench.ts` file in this folder, one after another, so adding a benchmark never means
 * editing this file. A bench file runs on import (top-level await) or exports a default async
 * function. Pass name fragments to run a subset: `pnpm bench -- memory-manager`.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const filters = process.argv.slice(2).filter((arg) => arg !== "--");
const files = readdirSync(dir)
  .filter((file) => file.endsWith(".bench.ts"))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

for (const file of files) {
  const module = (await import(pathToFileURL(`${dir}/${file}`).href)) as { default?: unknown };
  if (typeof module.default === "function") await (module.default as () => unknown)();
}
