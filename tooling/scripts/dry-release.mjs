#!/usr/bin/env node
// A release rehearsal in a temporary copy of the workspace (the working tree as git sees it: tracked
// and untracked-but-not-ignored files), so nothing here is touched:
//
//   a changeset per published package (a 0.x minor for @engram/core, patches for the rest)
//   -> changeset version -> sync-versions -> checks on the new versions and ranges
//   -> build -> the version tests -> publint -> attw -> pnpm publish --dry-run
//
// It fails on drift: a package left at another version than the fixed group, a major cascade
// (0.x -> 1.0.0), a peer range the new core does not satisfy, or a version constant that does not
// match package.json. ENGRAM_DRY_RELEASE_KEEP=1 keeps the copy for a look afterwards.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const semver = createRequire(join(root, "packages/core/package.json"))("semver");
const started = Date.now();
const log = (message) =>
  console.log(`[dry-release ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

const config = JSON.parse(readFileSync(join(root, ".changeset/config.json"), "utf8"));
const PUBLISHED = config.fixed[0];
if (!PUBLISHED?.includes("@engram/core"))
  throw new Error(".changeset/config.json: the first fixed group must hold @engram/core");

function run(command, args, cwd, extraEnv = {}) {
  return execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, CI: "true", TURBO_TELEMETRY_DISABLED: "1", ...extraEnv },
  });
}

function runShown(command, args, cwd) {
  try {
    return run(command, args, cwd);
  } catch (error) {
    console.error(
      `${command} ${args.join(" ")} failed in ${cwd}:\n${error.stdout ?? ""}${error.stderr ?? ""}`,
    );
    throw error;
  }
}

const copy = mkdtempSync(join(realpathSync(tmpdir()), "engram-dry-release-"));
const problems = [];
try {
  // 1. The copy: what git would commit, without node_modules or build output.
  const files = run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root);
  execFileSync("tar", ["-cf", join(copy, ".files.tar"), "--null", "-T", "-"], { cwd: root, input: files });
  run("tar", ["-xf", ".files.tar"], copy);
  rmSync(join(copy, ".files.tar"));
  log(`copied the workspace to ${copy}`);
  try {
    runShown("pnpm", ["install", "--frozen-lockfile", "--offline", "--ignore-scripts"], copy);
  } catch {
    log("offline install failed; retrying with the registry");
    runShown("pnpm", ["install", "--frozen-lockfile", "--prefer-offline", "--ignore-scripts"], copy);
  }
  log("installed");

  // 2. The packages' workspace folders and versions before.
  const listed = JSON.parse(run("pnpm", ["ls", "-r", "--depth", "-1", "--json"], copy));
  const dirOf = new Map(listed.filter((p) => p.name).map((p) => [p.name, p.path]));
  const manifest = (name) => JSON.parse(readFileSync(join(dirOf.get(name), "package.json"), "utf8"));
  const before = new Map([...dirOf.keys()].map((name) => [name, manifest(name).version]));
  for (const name of PUBLISHED) if (!dirOf.has(name)) throw new Error(`${name} is not a workspace package`);

  // 3. A changeset per package, then version as a release would.
  const releases = PUBLISHED.map((name) => `"${name}": ${name === "@engram/core" ? "minor" : "patch"}`);
  writeFileSync(
    join(copy, ".changeset/dry-release-rehearsal.md"),
    `---\n${releases.join("\n")}\n---\n\nRelease rehearsal (never committed).\n`,
  );
  runShown("pnpm", ["exec", "changeset", "version"], copy);
  runShown("node", ["tooling/scripts/sync-versions.mjs"], copy);
  const coreBefore = before.get("@engram/core");
  const expected = semver.inc(coreBefore, "minor");
  log(`changeset version: @engram/core ${coreBefore} -> ${manifest("@engram/core").version}`);

  // 4. The versions and ranges it produced.
  for (const name of PUBLISHED) {
    const m = manifest(name);
    if (m.version !== expected)
      problems.push(`${name}: ${before.get(name)} -> ${m.version}, expected ${expected} (fixed group)`);
    for (const [field, deps] of Object.entries({
      peerDependencies: m.peerDependencies,
      dependencies: m.dependencies,
    })) {
      for (const [dep, range] of Object.entries(deps ?? {})) {
        if (!PUBLISHED.includes(dep)) continue;
        const bare = range.replace(/^workspace:/, "");
        const effective =
          bare === "^" || bare === "~" ? `${bare}${expected}` : bare === "*" ? expected : bare;
        if (!semver.satisfies(expected, effective))
          problems.push(`${name}: ${field} ${dep} "${range}" rejects ${expected}`);
      }
    }
  }
  for (const [name, version] of before) {
    if (PUBLISHED.includes(name)) continue;
    const now = manifest(name).version;
    if (version === undefined) continue;
    if (semver.major(now) !== semver.major(version))
      problems.push(`${name}: ${version} -> ${now} (a major cascade)`);
  }
  try {
    run("node", ["tooling/scripts/sync-versions.mjs", "--check"], copy);
  } catch (error) {
    problems.push(`version constants drift: ${error.stderr}`);
  }
  if (problems.length > 0) throw new Error("the versioned packages are inconsistent");

  // 5. Build, the version tests, publint and attw on the new versions.
  const filters = PUBLISHED.flatMap((name) => ["--filter", name]);
  runShown(
    "pnpm",
    ["exec", "turbo", "run", "build", "publint", "attw", ...filters, "--output-logs=errors-only"],
    copy,
  );
  log("built; publint and attw passed");
  runShown(
    "pnpm",
    ["--filter", "@engram/core", "exec", "vitest", "run", "src/plugin/engram-plugin.test.ts"],
    copy,
  );
  for (const name of PUBLISHED.filter((n) => n.startsWith("@engram/provider-"))) {
    runShown("pnpm", ["--filter", name, "exec", "vitest", "run", "src/plugin/package-version.test.ts"], copy);
  }
  const built = run(
    "node",
    [
      "--input-type=module",
      "-e",
      "const c = await import('@engram/core'); console.log(c.ENGRAM_CORE_VERSION)",
    ],
    dirOf.get("@engram/provider-holographic"),
  ).trim();
  if (built !== expected)
    problems.push(`the built @engram/core says ENGRAM_CORE_VERSION ${built}, expected ${expected}`);
  log(`version tests passed; the built core reports ${built}`);

  // 6. What would be published: pnpm rewrites every workspace: range.
  let published = "";
  try {
    const args = ["-r", ...filters, "publish", "--dry-run", "--no-git-checks", "--access", "public"];
    const out = run("pnpm", args, copy);
    published = out;
  } catch (error) {
    const text = `${error.stdout ?? ""}${error.stderr ?? ""}`;
    // pnpm asks the registry which versions exist; without it the rehearsal stops here, said so.
    if (/ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT|network/i.test(text)) {
      log(`pnpm publish --dry-run SKIPPED: the registry is unreachable (${text.split("\n")[0]})`);
    } else {
      console.error(text);
      throw error;
    }
  }
  if (published) {
    const lines = published.split("\n").filter((line) => line.startsWith("+ "));
    for (const name of PUBLISHED) {
      if (!lines.includes(`+ ${name}@${expected}`))
        problems.push(`pnpm publish --dry-run did not publish ${name}@${expected}`);
    }
    log(`pnpm publish --dry-run: ${lines.join(", ")}`);
  }
  if (problems.length > 0) throw new Error("the built packages are inconsistent");
  log(`passed: ${PUBLISHED.length} packages would release as ${expected}; no major cascade, no drift`);
} catch (error) {
  for (const problem of problems) console.error(`  - ${problem}`);
  console.error(`[dry-release] FAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  if (process.env.ENGRAM_DRY_RELEASE_KEEP === "1") console.log(`[dry-release] copy kept at ${copy}`);
  else rmSync(copy, { recursive: true, force: true });
}
