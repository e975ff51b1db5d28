/**
 * Randomised coordinator interleavings over any {@link CommitLedger}: core runs them on the in-memory
 * ledger (synchronous and polled), `@engram/store` on its Postgres ledger. Test-only (imports
 * Vitest), kept out of the build.
 */
import { expect } from "vitest";
import type { CommitLedger } from "../commit-ledger.js";
import type { CommittableAgent } from "../committable-agent.js";
import { MemoryCommitCoordinator } from "../memory-commit-coordinator.js";
import { RecordingLedger, seededRandom, settle, sleep } from "./commit-test-kit.js";

let interleavingRuns = 0;

interface World {
  random: () => number;
  ledger: RecordingLedger;
  active: Map<string, number>;
  failRate: number;
  violations: string[];
  ownerOf: Map<string, Map<number, string>>;
}

class RaceAgent implements CommittableAgent {
  calls = 0;
  constructor(
    readonly name: string,
    readonly sessionId: string,
    private readonly world: World,
  ) {}

  commitMemorySession(): Promise<void> | void {
    const { world, sessionId } = this;
    this.calls++;
    const active = (world.active.get(sessionId) ?? 0) + 1;
    world.active.set(sessionId, active);
    if (active > 1) world.violations.push(`${sessionId}: ${active} commits overlap`);
    const claim = world.ledger.liveClaims.get(sessionId);
    if (claim === undefined) world.violations.push(`${sessionId}: agent ran without a claim`);
    else {
      const owners = world.ownerOf.get(sessionId);
      for (let g = claim.start; g <= claim.end; g++) {
        const owner = owners?.get(g);
        if (owner !== undefined && owner !== this.name) {
          world.violations.push(`${sessionId}: ${this.name} committed generation ${g} owned by ${owner}`);
        }
      }
    }
    const end = () => world.active.set(sessionId, (world.active.get(sessionId) ?? 1) - 1);
    const fail = world.random() < world.failRate;
    const mode = world.random();
    if (mode < 0.3) {
      end();
      if (fail) throw new Error("sync failure");
      return;
    }
    const waitMs = mode < 0.6 ? 0 : Math.floor(world.random() * 3);
    const ticks = Math.floor(world.random() * 6);
    return (async () => {
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      if (waitMs > 0) await sleep(waitMs);
      end();
      if (fail) throw new Error("async failure");
    })();
  }
}

export interface InterleavingProps {
  /** Replays the same interleaving for the same seed (given the same ledger answers). */
  seed: number;
  /** The ledger under test; wrapped to record claims and completions. */
  ledger: CommitLedger;
  /** Also answer every call after 0-3 microtask hops and hide `waitForRelease` (a polled ledger). */
  asyncHops?: boolean;
  /** End with `drainAll` instead of waiting commits per session. */
  finishWithDrain?: boolean;
  /** Random steps (default 50). */
  steps?: number;
}

/**
 * One random interleaving of turns, agent replacements, unregistrations, overlapping commits (plain,
 * waiting, timing out), failing and slow agents, on two sessions with ids unique to this call.
 * Asserts (Vitest `expect`): no two commits of a session overlap, every commit runs the agent owning
 * the whole captured segment, and in the end every generation is committed exactly once.
 */
export async function runCommitInterleaving(props: InterleavingProps): Promise<void> {
  const { seed } = props;
  const random = seededRandom(seed);
  const ledger = new RecordingLedger(
    props.ledger,
    props.asyncHops ? { asyncHops: () => Math.floor(random() * 4) } : {},
  );
  const finishWithDrain = props.finishWithDrain ?? false;
  const world: World = {
    random,
    ledger,
    active: new Map(),
    failRate: 0.3,
    violations: [],
    ownerOf: new Map(),
  };
  const coordinator = new MemoryCommitCoordinator({ ledger, pollMinMs: 1, pollMaxMs: 4 });
  const run = `${seed}-${Date.now().toString(36)}-${++interleavingRuns}`;
  const sessions = [`${run}-s1`, `${run}-s2`];
  const current = new Map<string, RaceAgent | undefined>();
  const marked = new Map<string, number>();
  const pending: Promise<unknown>[] = [];
  let agentSeq = 0;
  const newAgent = (sessionId: string) => new RaceAgent(`${sessionId}-agent${++agentSeq}`, sessionId, world);

  for (let step = 0; step < (props.steps ?? 50); step++) {
    const sessionId = sessions[Math.floor(random() * sessions.length)]!;
    const roll = random();
    if (roll < 0.35) {
      let agent = current.get(sessionId);
      let props: { agent?: RaceAgent } | undefined;
      if (agent === undefined || random() < 0.15) {
        agent = newAgent(sessionId);
        current.set(sessionId, agent);
        props = { agent };
      }
      const owner = agent.name;
      pending.push(
        Promise.resolve(coordinator.markTurnCompleted(sessionId, props)).then((generation) => {
          let owners = world.ownerOf.get(sessionId);
          if (owners === undefined) {
            owners = new Map();
            world.ownerOf.set(sessionId, owners);
          }
          owners.set(generation, owner);
          marked.set(sessionId, Math.max(marked.get(sessionId) ?? 0, generation));
        }),
      );
    } else if (roll < 0.45) {
      const agent = newAgent(sessionId);
      current.set(sessionId, agent);
      coordinator.registerAgent(sessionId, agent);
    } else if (roll < 0.52) {
      current.set(sessionId, undefined);
      coordinator.unregisterAgent(sessionId);
    } else if (roll < 0.72) {
      pending.push(Promise.resolve(coordinator.commitSessionMemory(sessionId)));
    } else if (roll < 0.85) {
      const timeoutMs = random() < 0.5 ? undefined : Math.floor(random() * 4);
      pending.push(Promise.resolve(coordinator.commitSessionMemory(sessionId, { wait: true, timeoutMs })));
    } else if (roll < 0.95) {
      await settle(Math.floor(random() * 10));
    } else {
      await sleep(Math.floor(random() * 2));
    }
  }
  await Promise.all(pending);
  world.failRate = 0;
  const outcomes: string[] = [];
  if (finishWithDrain) {
    const report = await coordinator.drainAll({ deadlineMs: 10_000 });
    expect(report.drained, `seed ${seed} ${JSON.stringify(report)}`).toBe(true);
  } else {
    for (const sessionId of sessions) {
      for (let guard = 0; guard < 100 && (await coordinator.hasUncommittedWork(sessionId)); guard++) {
        outcomes.push(await coordinator.tryCommitSession(sessionId, { wait: true, timeoutMs: 5_000 }));
      }
    }
  }
  expect(world.violations, `seed ${seed}`).toEqual([]);
  const tail = outcomes.slice(-5).join(",");
  for (const sessionId of sessions) {
    const generations = marked.get(sessionId) ?? 0;
    expect(await coordinator.hasUncommittedWork(sessionId), `seed ${seed} ${sessionId} last: ${tail}`).toBe(
      false,
    );
    expect(ledger.coverage(sessionId, generations), `seed ${seed} ${sessionId}`).toEqual(
      new Array(generations).fill(1),
    );
  }
  await coordinator.close();
}
