// `pnpm start`: builds what the launcher needs (turbo, cached), showing which package is building and
// that the build moves on, then runs the launcher in this very process.
//
// Why a script and not `turbo run build && pnpm --filter @engram/launcher start`:
// - On a fresh clone the build takes minutes, and with `--output-logs=errors-only` turbo shows only
//   its header meanwhile. Here each package is announced when it starts and when it is done, with a
//   heartbeat naming what is still building.
// - Every extra process layer between the terminal and the launcher (a shell, a nested pnpm) gets the
//   Ctrl-C too and dies of it, so pnpm printed ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL / ELIFECYCLE after the
//   launcher's clean "stopped.". The root script `exec`s this file, and this file imports the launcher:
//   pnpm's only child is the process that drains and exits 0.
//
// Usage: node tooling/scripts/start.mjs [--build-only] [extra turbo arguments, e.g. --force]
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const root = path.resolve(import.meta.dirname, "../..");
const launcherMain = path.join(root, "apps/launcher/dist/main.js");
const args = process.argv.slice(2);
const buildOnly = args.includes("--build-only");
const turboArgs = args.filter((arg) => arg !== "--build-only");
const turboBin = path.join(root, "node_modules/.bin/turbo");
const FILTER = "--filter=@engram/launcher...";
const HEARTBEAT_MS = 15_000;

// A Ctrl-C during the build reaches turbo as well, which stops; this process then exits 130 quietly.
let interrupted = false;
const onInterrupt = () => {
  interrupted = true;
};
process.on("SIGINT", onInterrupt);
process.on("SIGTERM", onInterrupt);

const code = await build();
process.off("SIGINT", onInterrupt);
process.off("SIGTERM", onInterrupt);
if (interrupted) process.exit(130);
if (code !== 0) process.exit(code);
if (!buildOnly) await import(pathToFileURL(launcherMain).href);

/** Runs the turbo build with progress lines; resolves with turbo's exit code. */
async function build() {
  const plan = await planBuild();
  const force = turboArgs.includes("--force");
  const pending = plan ? plan.filter((task) => force || task.cache !== "HIT") : undefined;
  if (pending && pending.length === 0) {
    // Everything is cached: restore quietly (a missing dist/ comes back from the cache).
    const { code, output } = await runTurbo(["--output-logs=errors-only"], () => undefined);
    if (code !== 0) process.stderr.write(output);
    return code;
  }
  const names = pending?.map((task) => task.name);
  const started = Date.now();
  console.log(
    names
      ? `Building ${names.length} package${names.length === 1 ? "" : "s"} before the start (${names.join(", ")}).` +
          " A fresh clone takes a few minutes; later starts reuse the cache."
      : "Building the packages before the start (a fresh clone takes a few minutes).",
  );
  const running = new Map(); // name -> start time
  const done = new Set();
  const total = names?.length;
  const count = () => (total === undefined ? `${done.size} done` : `${done.size}/${total}`);
  const finish = (name) => {
    if (!running.has(name) || done.has(name)) return;
    const seconds = ((Date.now() - running.get(name)) / 1000).toFixed(1);
    running.delete(name);
    done.add(name);
    console.log(`  [${count()}] built ${name} (${seconds} s)`);
  };
  const heartbeat = setInterval(() => {
    if (running.size === 0) return;
    const elapsed = Math.round((Date.now() - started) / 1000);
    console.log(`  ... still building ${[...running.keys()].join(", ")} (${elapsed} s so far, ${count()})`);
  }, HEARTBEAT_MS);
  const { code, output } = await runTurbo(["--output-logs=new-only"], (line) => {
    const task = /^(@?[\w./-]+):build: (.*)$/.exec(line);
    if (!task) return;
    const [, name, rest] = task;
    if (/^cache (miss|bypass)/.test(rest)) {
      // A task starts only once the tasks it depends on are done.
      for (const dependency of plan?.find((t) => t.name === name)?.dependencies ?? []) finish(dependency);
      running.set(name, Date.now());
      console.log(`  [${count()}] building ${name} ...`);
    } else if (!/^cache hit/.test(rest) && rest.trim() !== "" && !rest.startsWith("> ")) {
      console.log(`  ${name}: ${rest}`); // the task's own output (warnings, errors), not pnpm's echo
    }
  });
  clearInterval(heartbeat);
  if (code !== 0) {
    if (!interrupted) process.stderr.write(`\nThe build failed (turbo exit code ${code}):\n${output}`);
    return code;
  }
  for (const name of [...running.keys()]) finish(name);
  console.log(`Built in ${Math.round((Date.now() - started) / 1000)} s.\n`);
  return 0;
}

/**
 * The build tasks turbo would run, with their cache status and dependencies (`--dry-run=json`), or
 * `undefined` when turbo cannot tell (progress then shows without totals).
 */
async function planBuild() {
  const { code, stdout } = await runTurbo(["--dry-run=json"], () => undefined, { quiet: true });
  if (code !== 0) return undefined;
  try {
    const tasks = JSON.parse(stdout.slice(stdout.indexOf("{"))).tasks;
    return tasks
      .filter((task) => task.command && task.command !== "<NONEXISTENT>")
      .map((task) => ({
        name: task.package,
        cache: task.cache?.status,
        dependencies: (task.dependencies ?? []).map((id) => id.replace(/#build$/, "")),
      }));
  } catch {
    return undefined;
  }
}

/** Runs `turbo run build --filter=@engram/launcher... <extra>`, calling `onLine` per output line. */
function runTurbo(extra, onLine, options = {}) {
  if (!existsSync(turboBin)) {
    return Promise.resolve({ code: 1, output: `turbo not found at ${turboBin}: run pnpm install first.\n` });
  }
  return new Promise((resolve) => {
    const child = spawn(turboBin, ["run", "build", FILTER, ...extra, ...turboArgs], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    });
    let output = "";
    let stdout = "";
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (raw) => {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
        const line = raw.replace(/\u001b\[[0-9;]*m/g, "");
        output += `${line}\n`;
        if (stream === child.stdout) stdout += `${line}\n`;
        if (!options.quiet) onLine(line);
      });
    }
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 130 : 1), output, stdout }));
  });
}
