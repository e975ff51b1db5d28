/**
 * The third-party path of issue #15, from tarballs: the example plugin and the Engram packages the
 * launcher needs are packed (`pnpm pack`), installed with npm into a temporary host folder outside
 * the workspace, and the launcher is started there with an `engram.config.json` that names
 * `engram-provider-notes`. A fact told in one session must be recalled in the next over HTTP, through
 * the plugin. This file is Engram's own proof, not part of the example a plugin author copies.
 *
 * Which packages are packed is read from the workspace (the runtime dependency closure of the
 * launcher and of the plugin), so a new package such as `@engram/sessions` is picked up by itself.
 * npm fetches third-party dependencies through its normal, persistent cache (`ENGRAM_TARBALL_NPM_CACHE`
 * overrides the folder); `ENGRAM_TARBALL_KEEP_HOST=1` keeps the host folder for a look afterwards.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PLUGIN = "engram-provider-notes";
const HOST_APP = "@engram/launcher";
const EXAMPLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface WorkspacePackage {
  readonly dir: string;
  readonly manifest: Manifest;
}

interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

function workspaceRoot(from: string): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
  }
  throw new Error(`no pnpm-workspace.yaml above ${from}`);
}

const WORKSPACE = workspaceRoot(EXAMPLE_DIR);

function run(command: string, args: string[], props: { cwd: string; env?: NodeJS.ProcessEnv }) {
  return new Promise<CommandResult>((done, fail) => {
    execFile(command, args, { ...props, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${command} ${args.join(" ")} failed in ${props.cwd}:\n${stderr || stdout}`));
      else done({ stdout, stderr });
    });
  });
}

/** Every package of the workspace, from pnpm itself (so the globs in pnpm-workspace.yaml decide). */
async function workspacePackages(): Promise<Map<string, WorkspacePackage>> {
  const { stdout } = await run("pnpm", ["ls", "-r", "--depth", "-1", "--json"], { cwd: WORKSPACE });
  const packages = new Map<string, WorkspacePackage>();
  for (const { path } of JSON.parse(stdout) as Array<{ path: string }>) {
    const manifest = JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as Manifest;
    if (path !== WORKSPACE && manifest.name) packages.set(manifest.name, { dir: path, manifest });
  }
  return packages;
}

/**
 * What a host needs installed to run `roots`: the roots and every workspace package reachable through
 * `dependencies`, `peerDependencies` and `optionalDependencies` (never devDependencies).
 */
function runtimeClosure(all: Map<string, WorkspacePackage>, roots: readonly string[]): WorkspacePackage[] {
  const seen = new Map<string, WorkspacePackage>();
  const visit = (name: string) => {
    const pkg = all.get(name);
    if (!pkg || seen.has(name)) return;
    seen.set(name, pkg);
    const { dependencies, peerDependencies, optionalDependencies } = pkg.manifest;
    for (const dep of Object.keys({ ...dependencies, ...peerDependencies, ...optionalDependencies }))
      visit(dep);
  };
  for (const root of roots) {
    if (!all.has(root)) throw new Error(`${root} is not a workspace package`);
    visit(root);
  }
  return [...seen.values()];
}

/** The files a package's `main` and `exports` point at; all must exist before it is packed. */
function entryFiles(manifest: Manifest): string[] {
  const files = new Set<string>(manifest.main ? [manifest.main] : []);
  const walk = (value: unknown) => {
    if (typeof value === "string") {
      if (!value.endsWith("package.json")) files.add(value);
    } else if (value && typeof value === "object") {
      for (const inner of Object.values(value)) walk(inner);
    }
  };
  walk(manifest.exports);
  return [...files];
}

/** `node_modules/**​/<name>` folders below `root`: more than one copy of core would split the plugin's peer. */
function installedCopies(root: string, name: string): string[] {
  const found: string[] = [];
  const visit = (modules: string) => {
    if (!existsSync(modules)) return;
    if (existsSync(join(modules, name, "package.json"))) found.push(relative(root, join(modules, name)));
    for (const entry of readdirSync(modules, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const scoped = entry.name.startsWith("@")
        ? readdirSync(join(modules, entry.name)).map((inner) => join(modules, entry.name, inner))
        : [join(modules, entry.name)];
      for (const dir of scoped) visit(join(dir, "node_modules"));
    }
  };
  visit(join(root, "node_modules"));
  return found;
}

/** A minimal environment: what a person starting Engram in a folder has, none of this run's pnpm or Engram settings. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SystemRoot", "npm_config_registry"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

interface CheckReport {
  coreVersion: string;
  imported: string[];
  failed: Array<{ name: string; error: string }>;
  plugins: Array<{ package: string; plugin: string; engram: string; compatible: boolean }>;
  badConfigCode: string | null;
  factories: number;
  sessionA: { added: boolean; value: boolean[] };
  sessionB: { added: boolean; value: string };
}

/** One `node node_modules/@engram/launcher/dist/main.js` in the host folder. */
class Launcher {
  readonly output: string[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  gatewayUrl = "";

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    const main = join(cwd, "node_modules", ...HOST_APP.split("/"), "dist", "main.js");
    this.#child = spawn(process.execPath, [main], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    this.#exited = new Promise((done) => this.#child.once("exit", (code) => done(code)));
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", (line) => this.output.push(line));
    }
  }

  /** Waits for the start banner's gateway URL. */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const banner = this.output.map((line) => /gateway:\s+(http:\/\/\S+)/.exec(line)).find(Boolean);
      if (banner?.[1]) {
        this.gatewayUrl = banner[1];
        return;
      }
      if (this.#child.exitCode !== null) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`the launcher did not start (exit ${this.#child.exitCode}):\n${this.tail()}`);
  }

  tail(): string {
    return this.output.slice(-60).join("\n");
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    const killer = setTimeout(() => this.#child.kill("SIGKILL"), 30_000);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(killer);
    }
  }
}

describe("engram-provider-notes installed from a tarball next to packed Engram packages", () => {
  let host = "";
  let packed: WorkspacePackage[] = [];
  let launcher: Launcher | undefined;
  const tarballs = new Map<string, string>();

  beforeAll(async () => {
    const started = performance.now();
    const all = await workspacePackages();
    packed = runtimeClosure(all, [HOST_APP, PLUGIN]);
    const unbuilt = packed.flatMap(({ dir, manifest }) =>
      entryFiles(manifest)
        .filter((file) => !existsSync(join(dir, file)))
        .map((file) => `${manifest.name}: ${file}`),
    );
    if (unbuilt.length > 0) throw new Error(`not built (run pnpm build first): ${unbuilt.join(", ")}`);

    host = await mkdtemp(join(await realpath(tmpdir()), "engram-third-party-host-"));
    const tarballDir = join(host, "tarballs");
    await mkdir(tarballDir);
    // One pnpm for all of them: each pack is mostly process start-up. Private apps pack too.
    const filters = packed.flatMap((pkg) => ["--filter", pkg.manifest.name]);
    const { stdout } = await run(
      "pnpm",
      ["-r", ...filters, "pack", "--json", "--pack-destination", tarballDir],
      {
        cwd: WORKSPACE,
      },
    );
    for (const { name, filename } of JSON.parse(stdout) as Array<{ name: string; filename: string }>) {
      tarballs.set(name, resolve(tarballDir, filename));
    }
    expect([...tarballs.keys()].sort()).toEqual(packed.map((pkg) => pkg.manifest.name).sort());
    console.log(
      `[tarball] packed ${packed.length} packages in ${seconds(started)}: ${[...tarballs.keys()].join(", ")}`,
    );

    const installing = performance.now();
    const dependencies: Record<string, string> = {};
    for (const [name, file] of tarballs)
      dependencies[name] = `file:${relative(host, file).split(sep).join("/")}`;
    await writeFile(
      join(host, "package.json"),
      JSON.stringify(
        { name: "engram-third-party-host", private: true, type: "module", dependencies },
        null,
        2,
      ),
    );
    const cache = process.env.ENGRAM_TARBALL_NPM_CACHE;
    await run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        // Nothing Engram needs at run time builds at install time; skipping scripts keeps the host inert.
        "--ignore-scripts",
        "--loglevel=error",
        ...(cache ? ["--cache", cache] : []),
      ],
      { cwd: host, env: cleanEnv({}) },
    );
    console.log(`[tarball] npm install in ${host} took ${seconds(installing)}`);
  });

  afterAll(async () => {
    await launcher?.stop("SIGKILL");
    if (host && process.env.ENGRAM_TARBALL_KEEP_HOST !== "1")
      await rm(host, { recursive: true, force: true });
    else if (host) console.log(`[tarball] host kept at ${host}`);
  });

  it("packs the launcher's and the plugin's workspace closure with every workspace: range rewritten", async () => {
    expect(host.startsWith(WORKSPACE + sep)).toBe(false);
    const names = packed.map((pkg) => pkg.manifest.name);
    expect(names).toEqual(expect.arrayContaining([HOST_APP, PLUGIN, "@engram/core"]));
    for (const name of names) {
      const installed = join(host, "node_modules", ...name.split("/"), "package.json");
      const manifest = await readFile(installed, "utf8");
      expect(manifest, `${name} still names a workspace: range`).not.toContain("workspace:");
    }
    const plugin = JSON.parse(
      await readFile(join(host, "node_modules", PLUGIN, "package.json"), "utf8"),
    ) as Manifest;
    expect(plugin.peerDependencies?.["@engram/core"]).toMatch(/^\^\d+\.\d+\.\d+$/);
    expect(await readdir(join(host, "node_modules", PLUGIN, "dist"))).toContain("index.js");
    // One core for the host and every plugin: a second copy would make the plugin's peer a stranger.
    expect(installedCopies(host, "@engram/core")).toEqual([join("node_modules", "@engram", "core")]);
  });

  it("imports every installed package and installs the plugin with the installed core", async () => {
    // A copy inside the host: imports resolve from the host's node_modules, never the workspace's.
    const script = join(host, "check-install.mjs");
    await copyFile(join(EXAMPLE_DIR, "test", "fixtures", "check-install.mjs"), script);
    const names = packed.map((pkg) => pkg.manifest.name);
    const { stdout } = await run(
      process.execPath,
      [script, JSON.stringify([names, PLUGIN, join(host, "check-notes")])],
      {
        cwd: host,
        env: cleanEnv({}),
      },
    );
    const report = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as CheckReport;
    expect(report.failed).toEqual([]);
    expect(report.imported.sort()).toEqual([...names].sort());
    expect(report.plugins).toContainEqual({
      package: PLUGIN,
      plugin: PLUGIN,
      engram: "^0.1.0",
      compatible: true,
    });
    expect(report.plugins.filter((p) => !p.compatible)).toEqual([]);
    expect(report.badConfigCode).toBe("INVALID_CONFIG");
    expect(report.factories).toBe(1);
    expect(report.sessionA).toEqual({ added: true, value: [true] });
    expect(report.sessionB.value).toContain("<memory-context>");
    expect(report.sessionB.value).toContain("- the spare key is under the fern.");
  });

  it("runs in the launcher named by engram.config.json and recalls a note across sessions over HTTP", async () => {
    const notesDir = join(host, "notes");
    await writeFile(
      join(host, "engram.config.json"),
      JSON.stringify({ memory: { providers: [{ plugin: PLUGIN, config: { dir: notesDir } }] } }, null, 2),
    );
    const token = randomBytes(16).toString("hex");
    const starting = performance.now();
    launcher = new Launcher(
      host,
      cleanEnv({
        ENGRAM_DATA_DIR: join(host, "data"),
        ENGRAM_GATEWAY_HOST: "127.0.0.1",
        ENGRAM_GATEWAY_PORT: "0",
        ENGRAM_GATEWAY_TOKEN: token,
        ENGRAM_WEB_HOST: "127.0.0.1",
        ENGRAM_WEB_PORT: "0",
        ENGRAM_WEB_TOKEN: token,
      }),
    );
    await launcher.ready(120_000);
    console.log(`[tarball] launcher ready at ${launcher.gatewayUrl} in ${seconds(starting)}`);
    const running = launcher;
    const source = { platform: "telegram", chatId: "4242", chatType: "dm", userId: "4242" };
    const say = async (text: string) => {
      const response = await fetch(`${running.gatewayUrl}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ source, text }),
      });
      const body = (await response.json()) as { sessionId: string; reply: string | null };
      expect(response.status, `${text}: ${JSON.stringify(body)}\n${running.tail()}`).toBe(200);
      return body;
    };

    const told = await say("Remember that my locker code is 4711-quince.");
    const fresh = await say("/new");
    expect(fresh.sessionId).not.toBe(told.sessionId);
    const answer = await say("What is my locker code?");
    expect(answer.sessionId).toBe(fresh.sessionId);

    // The plugin's own record decides whether it ran: the default provider would recall this too.
    const files = existsSync(notesDir) ? await readdir(notesDir) : [];
    const notes = await Promise.all(files.map((file) => readFile(join(notesDir, file), "utf8")));
    const recorded = notes.join("").split("\n").filter(Boolean);
    expect(
      recorded.map((line) => JSON.parse(line) as { text: string; sessionId: string }),
      `${PLUGIN} was not loaded from ${join(host, "engram.config.json")}: nothing was written under ${notesDir}.\n` +
        `launcher output:\n${running.tail()}`,
    ).toContainEqual(
      expect.objectContaining({ text: "my locker code is 4711-quince.", sessionId: told.sessionId }),
    );
    // The offline model quotes what memory recalled: the plugin's "- " line reached the model.
    expect(answer.reply).toContain("From memory I recall:");
    expect(answer.reply).toContain("- my locker code is 4711-quince.");

    expect(await running.stop("SIGTERM"), running.tail()).toBe(0);
    launcher = undefined;
  });
});
