import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";

/**
 * PGlite runs initdb on every fresh in-memory instance (3-4 s on a shared CI core). A `dumpDataDir`
 * tarball of a fresh cluster loads in about 0.5 s, so we make the template once and keep it: in memory
 * for the process and on disk (keyed by PGlite version) for the other test files and later runs.
 * Set `ENGRAM_PGLITE_TEMPLATE_DIR` to move the disk cache, or to `off` to disable it.
 */
let template: Promise<Blob> | undefined;

export function pgliteTemplate(): Promise<Blob> {
  template ??= loadOrCreateTemplate().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

async function loadOrCreateTemplate(): Promise<Blob> {
  const dir = process.env.ENGRAM_PGLITE_TEMPLATE_DIR ?? join(tmpdir(), "engram-pglite-template");
  const file = dir === "off" ? undefined : join(dir, `pglite-${pgliteVersion()}.tar`);
  if (file) {
    const cached = await readFile(file).catch(() => undefined);
    if (cached && cached.byteLength > 0) return new Blob([cached]);
  }
  const pglite = await PGlite.create();
  try {
    const dump = await pglite.dumpDataDir("none");
    if (file) {
      // Write then rename: concurrent test processes either see a whole tarball or none.
      const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await mkdir(dir, { recursive: true });
      await writeFile(temp, new Uint8Array(await dump.arrayBuffer()));
      await rename(temp, file);
    }
    return dump;
  } finally {
    await pglite.close();
  }
}

// The package exports no `./package.json`, so find it by walking up from the resolved entry point.
function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "@electric-sql/pglite" && pkg.version) return pkg.version;
    } catch {
      // no package.json at this level
    }
    dir = dirname(dir);
  }
  // Unknown version: do not share a disk cache that might belong to another one.
  return `unknown-${process.pid}`;
}
