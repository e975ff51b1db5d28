/**
 * Issue #16's done-when, from tarballs: core, store, testkit, agent and Holographic (and the workspace
 * packages they need) are packed with `pnpm pack` and installed with npm into a temporary project
 * outside the workspace, the way an app builder or a provider author gets them. Without
 * `--legacy-peer-deps` (and with it forced off):
 *
 * - `import("@engram/testkit")` works while vitest is not installed, and the framework-free kit fails a
 *   provider that declares memory but keeps nothing (and passes the reference provider);
 * - `require("@engram/core")` works (Node >= 20.19);
 * - `npm install -D vitest@latest` then succeeds next to them, `npm ls kysely` shows one version (so
 *   the Holographic README's example type-checks and runs), and the Vitest binding
 *   (`@engram/testkit/vitest`) run by that vitest fails the do-nothing provider on the recall check.
 *
 * npm needs the registry for third-party packages: when it cannot be reached the tests are skipped
 * with the reason printed. `ENGRAM_TARBALL_NPM_CACHE` picks npm's cache folder; `ENGRAM_TARBALL_KEEP_HOST=1`
 * keeps the project for a look afterwards.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, "fixtures", "consumer");
const ROOTS = [
  "@engram/core",
  "@engram/store",
  "@engram/testkit",
  "@engram/agent",
  "@engram/provider-holographic",
];
const INSTALL_TIMEOUT_MS = 600_000;

interface Manifest {
  name: string;
  main?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function workspaceRoot(from: string): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
  }
  throw new Error(`no pnpm-workspace.yaml above ${from}`);
}
const WORKSPACE = workspaceRoot(HERE);

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((done) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function mustRun(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv) {
  const outcome = await run(command, args, cwd, env);
  if (outcome.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${outcome.code}) in ${cwd}:\n${outcome.stderr || outcome.stdout}`,
    );
  }
  return outcome;
}

/** What a person's shell has, none of this run's pnpm settings; peer conflicts are never waved through. */
function consumerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SystemRoot", "npm_config_registry"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, npm_config_legacy_peer_deps: "false", npm_config_force: "false" };
}

const npmFlags = () => {
  const cache = process.env.ENGRAM_TARBALL_NPM_CACHE;
  return [
    "--no-audit",
    "--no-fund",
    "--prefer-offline",
    "--ignore-scripts",
    "--loglevel=error",
    ...(cache ? ["--cache", cache] : []),
  ];
};

/** The roots and every workspace package their dependencies and peers reach. */
async function packedClosure(): Promise<Map<string, string>> {
  const { stdout } = await mustRun("pnpm", ["ls", "-r", "--depth", "-1", "--json"], WORKSPACE);
  const dirs = new Map<string, string>();
  for (const { name, path } of JSON.parse(stdout) as Array<{ name?: string; path: string }>) {
    if (name && path !== WORKSPACE) dirs.set(name, path);
  }
  const closure = new Map<string, string>();
  const visit = (name: string) => {
    const dir = dirs.get(name);
    if (!dir || closure.has(name)) return;
    closure.set(name, dir);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) visit(dep);
  };
  for (const name of ROOTS) visit(name);
  return closure;
}

/** Every version of `name` in an `npm ls --json --all` tree. */
function versionsIn(tree: unknown, name: string, found = new Set<string>()): Set<string> {
  const deps = (tree as { dependencies?: Record<string, { version?: string }> }).dependencies ?? {};
  for (const [dep, node] of Object.entries(deps)) {
    if (dep === name && node.version) found.add(node.version);
    versionsIn(node, name, found);
  }
  return found;
}

async function registryReachable(): Promise<string | undefined> {
  const registry = process.env.npm_config_registry ?? "https://registry.npmjs.org/";
  try {
    const response = await fetch(new URL("vitest/latest", registry), { signal: AbortSignal.timeout(10_000) });
    return response.ok ? undefined : `the npm registry answered ${response.status}`;
  } catch (error) {
    return `the npm registry (${registry}) is unreachable: ${String(error)}`;
  }
}

describe("the published packages, installed from tarballs by npm in a project outside the workspace", () => {
  let host = "";
  let offline: string | undefined;
  const tarballs = new Map<string, string>();

  const skipIfOffline = (ctx: { skip: (note?: string) => void }) => {
    if (offline) {
      console.log(`[consumer] SKIPPED: ${offline}`);
      ctx.skip(offline);
    }
  };

  beforeAll(async () => {
    offline = await registryReachable();
    if (offline) return;
    const closure = await packedClosure();
    for (const [name, dir] of closure) {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
      if (!manifest.main || !existsSync(join(dir, manifest.main))) {
        throw new Error(`${name} is not built (run pnpm build first)`);
      }
    }
    host = await mkdtemp(join(tmpdir(), "engram-consumer-"));
    const tarballDir = join(host, "tarballs");
    await mkdir(tarballDir);
    const filters = [...closure.keys()].flatMap((name) => ["--filter", name]);
    const started = performance.now();
    const { stdout } = await mustRun(
      "pnpm",
      ["-r", ...filters, "pack", "--json", "--pack-destination", tarballDir],
      WORKSPACE,
    );
    for (const { name, filename } of JSON.parse(stdout) as Array<{ name: string; filename: string }>) {
      tarballs.set(name, resolve(tarballDir, filename));
    }
    const sizes = await Promise.all(
      [...tarballs].map(
        async ([name, file]) => `${name} ${(readFileSync(file).length / 1024).toFixed(1)} kB`,
      ),
    );
    console.log(
      `[consumer] packed in ${((performance.now() - started) / 1000).toFixed(1)} s: ${sizes.join(", ")}`,
    );
    const dependencies: Record<string, string> = {};
    for (const [name, file] of tarballs)
      dependencies[name] = `file:${relative(host, file).split(sep).join("/")}`;
    await writeFile(
      join(host, "package.json"),
      JSON.stringify({ name: "engram-consumer", private: true, type: "module", dependencies }, null, 2),
    );
    for (const file of await readdir(FIXTURES)) await copyFile(join(FIXTURES, file), join(host, file));
    const installing = performance.now();
    await mustRun("npm", ["install", ...npmFlags()], host, consumerEnv());
    console.log(
      `[consumer] npm install in ${host}: ${((performance.now() - installing) / 1000).toFixed(1)} s`,
    );
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    if (host && process.env.ENGRAM_TARBALL_KEEP_HOST !== "1")
      await rm(host, { recursive: true, force: true });
    else if (host) console.log(`[consumer] project kept at ${host}`);
  });

  it("packs the five packages and the workspace packages they need, outside the workspace", (ctx) => {
    skipIfOffline(ctx);
    expect(host.startsWith(WORKSPACE + sep)).toBe(false);
    expect([...tarballs.keys()]).toEqual(expect.arrayContaining(ROOTS));
  });

  it("imports @engram/testkit without vitest, and its kit fails a provider that keeps nothing", async (ctx) => {
    skipIfOffline(ctx);
    const { stdout } = await mustRun(process.execPath, ["check-without-vitest.mjs"], host, consumerEnv());
    const report = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    expect(report.vitestAbsent).toBe(true);
    expect(report.testkitExports).toEqual(["runMemoryProviderChecks", "checks", "InMemoryMemoryProvider"]);
    expect(report.doNothing.passed).toBe(false);
    expect(report.doNothing.failed).toContain("committedMemoryIsRecalledInALaterSession");
    expect(report.reference).toEqual({ passed: true, failed: [] });
  }, 120_000);

  it("require()s @engram/core and @engram/testkit from CommonJS", async (ctx) => {
    skipIfOffline(ctx);
    const { stdout } = await mustRun(process.execPath, ["check-require.cjs"], host, consumerEnv());
    const report = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    const core = JSON.parse(readFileSync(join(host, "node_modules/@engram/core/package.json"), "utf8"));
    expect(report).toEqual({
      coreVersion: core.version,
      memoryProvider: "function",
      definePlugin: "function",
      runMemoryProviderChecks: "function",
    });
  }, 60_000);

  it(
    "installs vitest@latest next to them without --legacy-peer-deps, with one kysely",
    async (ctx) => {
      skipIfOffline(ctx);
      const installed = await run(
        "npm",
        ["install", "--save-dev", "vitest@latest", ...npmFlags()],
        host,
        consumerEnv(),
      );
      expect(installed.code, installed.stderr).toBe(0);
      const vitest = JSON.parse(readFileSync(join(host, "node_modules/vitest/package.json"), "utf8"));
      console.log(`[consumer] vitest ${vitest.version} installed next to the Engram packages`);
      // `npm ls` exits non-zero on an invalid or missing peer, which is part of what is checked.
      const listed = await run("npm", ["ls", "kysely", "--all", "--json"], host, consumerEnv());
      expect(listed.code, listed.stdout + listed.stderr).toBe(0);
      expect([...versionsIn(JSON.parse(listed.stdout), "kysely")]).toHaveLength(1);
    },
    INSTALL_TIMEOUT_MS,
  );

  it(
    "type-checks and runs the Holographic README's example against the installed packages",
    async (ctx) => {
      skipIfOffline(ctx);
      // Two kysely copies made this example fail with TS2322 (`#private`): store's Kysely is not the plugin's.
      const readme = readFileSync(join(WORKSPACE, "plugins/holographic/README.md"), "utf8");
      const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(example, "plugins/holographic/README.md has no ```ts example").toBeDefined();
      await writeFile(join(host, "holographic-example.ts"), example ?? "");
      await writeFile(
        join(host, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            skipLibCheck: true,
            types: [],
            outDir: "out",
          },
          files: ["holographic-example.ts"],
        }),
      );
      await mustRun("npm", ["install", "--save-dev", "typescript@5.9.3", ...npmFlags()], host, consumerEnv());
      const compiled = await run(
        process.execPath,
        ["node_modules/typescript/bin/tsc", "-p", "."],
        host,
        consumerEnv(),
      );
      expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0);
      const ran = await run(process.execPath, ["out/holographic-example.js"], host, consumerEnv());
      expect(ran.code, ran.stderr).toBe(0);
    },
    INSTALL_TIMEOUT_MS,
  );

  it("runs the Vitest binding with that vitest and fails the do-nothing provider on recall", async (ctx) => {
    skipIfOffline(ctx);
    if (!existsSync(join(host, "node_modules/vitest/package.json"))) ctx.skip("vitest was not installed");
    const outcome = await run(
      process.execPath,
      ["node_modules/vitest/vitest.mjs", "run", "--reporter=json", "--outputFile=vitest.json"],
      host,
      consumerEnv(),
    );
    expect(outcome.code, outcome.stderr).not.toBe(0);
    const results = JSON.parse(readFileSync(join(host, "vitest.json"), "utf8")) as {
      numFailedTests: number;
      numPassedTests: number;
      testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }>;
    };
    const failed = results.testResults.flatMap((file) =>
      file.assertionResults.filter((test) => test.status === "failed").map((test) => test.title),
    );
    expect(failed).toEqual([
      "what a session mirrored and committed is recalled by prefetch in a later session of the same scope",
    ]);
    expect(results.numPassedTests).toBeGreaterThan(10);
  }, 120_000);
});
