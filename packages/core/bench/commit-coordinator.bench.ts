/**
 * MemoryCommitCoordinator over the in-memory ledger: the per-process lifecycle cost. One cycle is
 * registerAgent + 5 x markTurnCompleted + commitSessionMemory on one of 10k sessions, with a
 * synchronous agent; each run registers a different agent than the previous run did, so the
 * register path really replaces the current agent. Target >= 800k cycles/s on 2 cores (the Python
 * reference does 82k/s).
 */
import { benchThroughput } from "@engram/bench";
import { type CommittableAgent, MemoryCommitCoordinator } from "../src/index.js";

const SESSIONS = 10_000;
const TURNS = 5;

class NoopAgent implements CommittableAgent {
  commits = 0;
  commitMemorySession(): void {
    this.commits++;
  }
}

const ids = Array.from({ length: SESSIONS }, (_, i) => `session-${i}`);
const agentSets = [0, 1].map(() => ids.map(() => new NoopAgent()));
const coordinator = new MemoryCommitCoordinator();
let run = 0;

await benchThroughput({
  name: "commit-coordinator.lifecycle",
  opsPerRun: SESSIONS,
  runs: 15,
  warmupRuns: 3,
  run: () => {
    const agents = agentSets[run++ & 1]!;
    for (let i = 0; i < SESSIONS; i++) {
      const id = ids[i]!;
      coordinator.registerAgent(id, agents[i]!);
      for (let t = 0; t < TURNS; t++) coordinator.markTurnCompleted(id);
      if (coordinator.commitSessionMemory(id) !== true) throw new Error(`commit of ${id} did not run`);
    }
  },
  extra: { unit: "cycles/s", sessions: SESSIONS, turnsPerCycle: TURNS, ledger: "in-memory", target: 800_000 },
});

const marker = new MemoryCommitCoordinator();
const agent = new NoopAgent();
for (const id of ids) marker.registerAgent(id, agent);
const MARKS = SESSIONS * TURNS;
await benchThroughput({
  name: "commit-coordinator.markTurnCompleted",
  opsPerRun: MARKS,
  runs: 15,
  warmupRuns: 3,
  run: () => {
    for (let t = 0; t < TURNS; t++) for (let i = 0; i < SESSIONS; i++) marker.markTurnCompleted(ids[i]!);
  },
  extra: { unit: "marks/s", sessions: SESSIONS, ledger: "in-memory" },
});

await coordinator.close();
await marker.close();
