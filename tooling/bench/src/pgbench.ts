import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { report } from "./report.js";

/**
 * The reference for database-bound work (TARGETS.md): pgbench's durable single-row INSERT into an
 * indexed table, measured on the same server in the same run, so a figure can be printed as a ratio
 * that survives a change of machine.
 */
export interface PgbenchReference {
  readonly clients: number;
  /** Transactions per second, `null` when pgbench could not run (see `reason`). */
  readonly tps: number | null;
  readonly reason?: string;
}

export interface PgbenchReferenceProps {
  /** Connection string (e.g. `DATABASE_URL`); without one the reference is absent and says why. */
  readonly url: string | undefined;
  /** Client counts to measure, e.g. `[1, 32]`. */
  readonly clients: readonly number[];
  /** Seconds per client count; default `ENGRAM_BENCH_PGBENCH_SECONDS` or 4 (TARGETS.md uses 12). */
  readonly seconds?: number;
}

const SCRIPT = `\\set s random(1, 10000)
INSERT INTO msgs(session_id, role, content) VALUES ('s' || :s, 'user', 'a message of sixty characters, give or take a few, for pgbench');
`;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(command, args, { encoding: "utf8", env, timeout: 120_000 });
}

function absent(clients: readonly number[], reason: string): PgbenchReference[] {
  const references = clients.map((c) => ({ clients: c, tps: null, reason }));
  for (const r of references) report({ bench: "pgbench.reference", ...r });
  return references;
}

/**
 * Runs pgbench (when installed) against `url` in a schema of its own (created and dropped here, so
 * nothing of the project's is touched) and reports one `pgbench.reference` line per client count.
 * When pgbench or psql is missing, or the server refuses, each line carries `tps: null` and why.
 */
export function pgbenchReference(props: PgbenchReferenceProps): PgbenchReference[] {
  if (!props.url) return absent(props.clients, "DATABASE_URL is not set");
  for (const tool of ["pgbench", "psql"]) {
    const probe = run(tool, ["--version"]);
    if (probe.error || probe.status !== 0) {
      return absent(props.clients, `${tool} is not installed (the postgresql-client package has it)`);
    }
  }
  const seconds = props.seconds ?? Number(process.env.ENGRAM_BENCH_PGBENCH_SECONDS ?? 4);
  const schema = `pgbench_ref_${randomBytes(4).toString("hex")}`;
  const setup = run("psql", [
    props.url,
    "-v",
    "ON_ERROR_STOP=1",
    "-qc",
    `create schema ${schema};
     create table ${schema}.msgs(id bigserial primary key, session_id text not null, role text not null,
                                 content text not null, created_at timestamptz not null default now());
     create index on ${schema}.msgs(session_id, id);`,
  ]);
  if (setup.status !== 0) {
    return absent(props.clients, `psql could not create the reference table: ${setup.stderr.trim()}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "engram-pgbench-"));
  const scriptPath = join(dir, "insert.sql");
  writeFileSync(scriptPath, SCRIPT);
  const references: PgbenchReference[] = [];
  try {
    for (const clients of props.clients) {
      const jobs = String(Math.min(clients, 2));
      const args = ["-n", "-c", String(clients), "-j", jobs, "-T", String(seconds), "-f", scriptPath];
      const env = { ...process.env, PGOPTIONS: `-c search_path=${schema}` };
      const result = run("pgbench", [...args, props.url], env);
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(result.stdout ?? "")?.[1];
      const reference: PgbenchReference =
        result.status === 0 && tps !== undefined
          ? { clients, tps: Math.round(Number(tps)) }
          : { clients, tps: null, reason: `pgbench failed: ${(result.stderr ?? "").trim().slice(0, 300)}` };
      report({
        bench: "pgbench.reference",
        ...reference,
        seconds,
        statement: "durable single-row INSERT, indexed",
      });
      references.push(reference);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    run("psql", [props.url, "-qc", `drop schema if exists ${schema} cascade`]);
  }
  return references;
}

/** `figure / reference`, rounded to three places, or `null` without a reference. */
export function ratioTo(figure: number, reference: PgbenchReference | undefined): number | null {
  if (!reference?.tps) return null;
  return Math.round((figure / reference.tps) * 1000) / 1000;
}
