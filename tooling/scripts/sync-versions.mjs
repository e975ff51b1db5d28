#!/usr/bin/env node
// Writes the version constants compiled into packages from their package.json, so a release cannot
// ship a stale value: `@engram/core`'s ENGRAM_CORE_VERSION and each plugin's `definePlugin` version
// and `engram` range (the plugin's @engram/core peer range). Run by each such package's `build` (for
// its own directory) and by `pnpm version-packages` after `changeset version` (for all of them).
//
//   node tooling/scripts/sync-versions.mjs [--check] [packageDir ...]
//
// --check writes nothing and exits 1 naming every file that differs from its package.json (drift).
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const check = args.includes("--check");
const HEADER =
  "// Written by tooling/scripts/sync-versions.mjs from package.json (on build and on version-packages).\n" +
  "// Do not edit: change package.json instead.\n";

const readManifest = (dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
const coreDir = join(root, "packages/core");
const coreVersion = readManifest(coreDir).version;

/** A workspace range as npm will see it once pnpm publishes it (`workspace:^` -> `^<core version>`). */
function publishedRange(range) {
  const bare = range.replace(/^workspace:/, "");
  if (bare === "^" || bare === "~") return `${bare}${coreVersion}`;
  if (bare === "*") return coreVersion;
  return bare;
}

/** The generated file of `dir`, or undefined when the package carries no version constants. */
function generated(dir) {
  const manifest = readManifest(dir);
  if (resolve(dir) === coreDir) {
    return {
      file: join(dir, "src/plugin/core-version.ts"),
      text: `${HEADER}
/**
 * Version of this \`@engram/core\` build, compared against each plugin's \`engram\` range. Generated from
 * \`package.json\`, and a unit test keeps the two equal, so a release cannot ship with a stale value.
 */
export const ENGRAM_CORE_VERSION = ${JSON.stringify(manifest.version)};
`,
    };
  }
  if (relative(join(root, "plugins"), resolve(dir)).startsWith("..")) return undefined;
  const peer = manifest.peerDependencies?.["@engram/core"];
  if (!peer) throw new Error(`${manifest.name}: a plugin must peer on @engram/core`);
  return {
    // Memory-provider plugins keep their plugin files in src/plugin/; adapter plugins directly in src/.
    file: join(dir, existsSync(join(dir, "src/plugin")) ? "src/plugin" : "src", "package-version.ts"),
    text: `${HEADER}
/** This plugin's version: its \`package.json\` version. */
export const PLUGIN_VERSION = ${JSON.stringify(manifest.version)};

/** The \`@engram/core\` range it works with: its \`package.json\` peer range on \`@engram/core\`. */
export const PLUGIN_ENGRAM_RANGE = ${JSON.stringify(publishedRange(peer))};
`,
  };
}

const dirs = args.filter((a) => !a.startsWith("--")).map((d) => resolve(d));
if (dirs.length === 0) {
  dirs.push(coreDir);
  for (const name of readdirSync(join(root, "plugins"))) {
    if (existsSync(join(root, "plugins", name, "package.json"))) dirs.push(join(root, "plugins", name));
  }
}

const drifted = [];
for (const dir of dirs) {
  const target = generated(dir);
  if (!target) continue;
  const current = existsSync(target.file) ? readFileSync(target.file, "utf8") : "";
  if (current === target.text) continue;
  if (check) drifted.push(relative(root, target.file));
  else writeFileSync(target.file, target.text);
}
if (drifted.length > 0) {
  console.error(`version constants out of step with package.json: ${drifted.join(", ")}`);
  console.error("run: node tooling/scripts/sync-versions.mjs");
  process.exit(1);
}
