// Child process of the cross-process commit-ledger test. Drives one MemoryCommitCoordinator over the
// shared PostgresCommitLedger: random turns on shared sessions (each with this process's own agent),
// overlapping commits (plain and waiting), failing agents; ends with a drain and a clean close.
// Every successful agent commit inserts the generations it committed into `commit_log`, which the
// parent checks for exact coverage.
//
// argv: <url> <schema> <instanceId> <seed> <steps> <sessions> <startAt epoch ms> [crash]
// With `crash`, the process exits abruptly after its steps (no drain, no retire, heartbeat TTL 1.5 s),
// leaving dirty segments that a live instance may adopt once the TTL lapses.
import {
  type ClaimCommitProps,
  type ClaimResult,
  type CommitClaim,
  type CommitLedger,
  type CommittableAgent,
  MemoryCommitCoordinator,
} from "@engram/core";
import { sql } from "kysely";
import { createDatabase } from "../../db/database.js";
import { PostgresCommitLedger } from "../postgres-commit-ledger.js";

const [url, schema, instanceId, seedText, stepsText, sessionsText, startAtText, mode] = process.argv.slice(2);
const crash = mode === "crash";
if (!url || !schema || !instanceId || !seedText || !stepsText || !sessionsText || !startAtText) {
  throw new Error("usage: commit-child <url> <schema> <instanceId> <seed> <steps> <sessions> <startAt>");
}

let state = Number(seedText) >>> 0;
const random = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const database = await createDatabase({ url, schema, maxConnections: 6 });
const inner = new PostgresCommitLedger(database.db);
// Remembers this process's live claim per session, so an agent knows which generations it commits.
const liveClaims = new Map<string, CommitClaim>();
const ledger: CommitLedger = {
  markTurnCompleted: (s, o) => inner.markTurnCompleted(s, o),
  hasUncommittedWork: (s) => inner.hasUncommittedWork(s),
  generationOf: (s) => inner.generationOf(s),
  claimCommit: async (s: string, p: ClaimCommitProps): Promise<ClaimResult> => {
    const result = await inner.claimCommit(s, p);
    if (result.status === "claimed") liveClaims.set(s, result);
    return result;
  },
  renewCommit: (c, ms) => inner.renewCommit(c, ms),
  completeCommit: (c) => inner.completeCommit(c),
  releaseCommit: (c) => inner.releaseCommit(c),
  dirtySessions: (p) => inner.dirtySessions(p),
  heartbeat: (i, ttl) => inner.heartbeat(i, ttl),
  retireInstance: (i) => inner.retireInstance(i),
  reapInstances: (p) => inner.reapInstances(p),
};

let failRate = 0.2;
let commits = 0;
let failures = 0;

class LoggingAgent implements CommittableAgent {
  constructor(
    readonly sessionId: string,
    readonly name: string,
  ) {}
  async commitMemorySession(): Promise<void> {
    const claim = liveClaims.get(this.sessionId);
    if (claim === undefined) throw new Error(`${this.name}: no claim for ${this.sessionId}`);
    if (random() < 0.5) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));
    if (random() < failRate) {
      failures++;
      throw new Error(`${this.name}: scripted failure`);
    }
    await sql`
      insert into commit_log (instance_id, agent, session_id, start_gen, end_gen)
      values (${instanceId}, ${this.name}, ${this.sessionId}, ${claim.start}, ${claim.end})
    `.execute(database.db);
    commits++;
  }
}

const coordinator = new MemoryCommitCoordinator({
  ledger,
  instanceId,
  leaseMs: 20_000,
  instanceTtlMs: crash ? 1_500 : 20_000,
  pollMinMs: 2,
  pollMaxMs: 20,
});
const sessions = Array.from({ length: Number(sessionsText) }, (_, i) => `shared-${i}`);
let agentSeq = 0;
const agentFor = (sessionId: string) => new LoggingAgent(sessionId, `${instanceId}-agent${++agentSeq}`);
for (const sessionId of sessions) coordinator.registerAgent(sessionId, agentFor(sessionId));

try {
  await database.db.selectNoFrom(sql<number>`1`.as("one")).execute(); // connect before the barrier
  const wait = Number(startAtText) - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const pending = new Set<Promise<unknown>>();
  const track = (work: PromiseLike<unknown> | unknown) => {
    const promise = Promise.resolve(work);
    pending.add(promise);
    const forget = () => pending.delete(promise);
    promise.then(forget, forget);
  };
  for (let step = 0; step < Number(stepsText); step++) {
    const sessionId = sessions[Math.floor(random() * sessions.length)]!;
    const roll = random();
    if (roll < 0.5) track(coordinator.markTurnCompleted(sessionId));
    else if (roll < 0.57) coordinator.registerAgent(sessionId, agentFor(sessionId));
    else if (roll < 0.8) track(coordinator.commitSessionMemory(sessionId));
    else if (roll < 0.9)
      track(coordinator.commitSessionMemory(sessionId, { timeoutMs: Math.floor(random() * 50) }));
    else await Promise.race([...pending, new Promise((resolve) => setTimeout(resolve, 2))]);
    if (pending.size >= 8) await Promise.race(pending);
  }
  await Promise.all(pending);
  if (crash) {
    const dirty = await inner.dirtySessions();
    process.stdout.write(`${JSON.stringify({ instanceId, commits, failures, dirty })}\n`);
    process.exit(0);
  }
  failRate = 0;
  const report = await coordinator.drainAll({ deadlineMs: 30_000 });
  process.stdout.write(
    `${JSON.stringify({ instanceId, commits, failures, drained: report.drained, remaining: report.remaining })}\n`,
  );
} finally {
  await coordinator.close();
  await database.close();
}
