import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** `packages/core`, which fixture plugins import as their peer `@engram/core`. */
const CORE_DIR = realpathSync(fileURLToPath(new URL("../../node_modules/@engram/core", import.meta.url)));

/** A provider class fixture plugins build on (tools as given). */
const PROVIDER_SOURCE = `
import { definePlugin, InvalidArgumentError, MEMORY_PROVIDER_FACTORIES, MemoryProvider } from "@engram/core";
class FixtureProvider extends MemoryProvider {
  constructor(name, tools) { super(); this.name = name; this.tools = tools; }
  isAvailable() { return true; }
  initialize() {}
  getToolSchemas() {
    return this.tools.map((name) => ({ name, description: name, parameters: { type: "object", properties: {} } }));
  }
}
export function fixturePlugin({ name, engram = "^0.1.0", provider, tools }) {
  return definePlugin({
    name,
    version: "1.0.0",
    engram,
    configSchema: {
      parse(input) {
        if (typeof input?.path !== "string") throw new InvalidArgumentError("path", "is required");
        return input;
      },
    },
    register(container) {
      container.register(MEMORY_PROVIDER_FACTORIES, { useValue: () => new FixtureProvider(provider, tools) });
    },
  });
}
`;

/** A host folder with fixture plugin packages installed in its `node_modules`. */
export interface PluginFixtures {
  readonly dir: string;
  /** Writes `engram.config.json` there; returns its path. */
  writeConfig(config: unknown): string;
  remove(): void;
}

/**
 * Makes a temporary host folder whose `node_modules` holds `@engram/core` (a link to this workspace's)
 * and these packages: `fixture-notes` (default export; provider `notes` with tool `fact_store`, which
 * the Holographic provider offers too), `fixture-recall` (named export only; provider `recall` with
 * tool `recall_notes`), `fixture-future` (needs core ^2.0.0), `fixture-nothing` (no plugin) and
 * `fixture-twins` (two named plugins, no default), and the adapter plugin `fixture-chat` (platform from
 * its config; `explode` makes its factory throw).
 */
export function createPluginFixtures(): PluginFixtures {
  const dir = mkdtempSync(join(tmpdir(), "engram-plugins-"));
  const modules = join(dir, "node_modules");
  mkdirSync(join(modules, "@engram"), { recursive: true });
  symlinkSync(CORE_DIR, join(modules, "@engram", "core"), "dir");
  const pkg = (name: string, source: string) => {
    const root = join(modules, name);
    mkdirSync(root, { recursive: true });
    writeFileSync(
      join(root, "package.json"),
      JSON.stringify({
        name,
        version: "1.0.0",
        type: "module",
        exports: "./index.js",
        peerDependencies: { "@engram/core": "*" },
      }),
    );
    writeFileSync(join(root, "index.js"), source);
    writeFileSync(join(root, "fixture-provider.js"), PROVIDER_SOURCE);
  };
  const using = 'import { fixturePlugin } from "./fixture-provider.js";\n';
  pkg(
    "fixture-notes",
    `${using}export default fixturePlugin({ name: "fixture-notes", provider: "notes", tools: ["fact_store"] });\n`,
  );
  pkg(
    "fixture-recall",
    `${using}export const recallPlugin = fixturePlugin({ name: "fixture-recall", provider: "recall", tools: ["recall_notes"] });\nexport const version = "1";\n`,
  );
  pkg(
    "fixture-future",
    `${using}export default fixturePlugin({ name: "fixture-future", engram: "^2.0.0", provider: "future", tools: [] });\n`,
  );
  pkg("fixture-nothing", "export const nothing = 1;\n");
  // An adapter plugin: the platform it serves comes from its config; "explode" makes its factory throw.
  pkg(
    "fixture-chat",
    `import { definePlugin, InvalidArgumentError } from "@engram/core";
export default definePlugin({
  name: "fixture-chat",
  version: "1.0.0",
  engram: "^0.1.0",
  configSchema: {
    parse(input) {
      if (typeof input?.platform !== "string") throw new InvalidArgumentError("platform", "is required");
      return input;
    },
  },
  register(container, config) {
    container.register(Symbol.for("engram.sessions.PlatformAdapterFactories"), {
      useValue: (context) => {
        if (config.platform === "explode") throw new Error("no connection settings");
        return { platform: config.platform, hasClock: typeof context.clock?.now === "function", register() {}, async send() {} };
      },
    });
  },
});
`,
  );
  pkg(
    "fixture-twins",
    `${using}export const a = fixturePlugin({ name: "twin-a", provider: "a", tools: [] });\nexport const b = fixturePlugin({ name: "twin-b", provider: "b", tools: [] });\n`,
  );
  return {
    dir,
    writeConfig(config) {
      const path = join(dir, "engram.config.json");
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, JSON.stringify(config));
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
