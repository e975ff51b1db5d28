/**
 * SessionBufferManager hot paths: adding a message (the per-request cost of a busy server) and
 * commit phase 1 (the synchronous snapshot-and-clear a caller waits for). Phase 2 is parked behind a
 * gate during the phase-1 samples so background compression never leaks into those timings; the
 * full commit (`wait: true`, deterministic compressor, in-memory store) is reported separately.
 */
import { benchLatency, benchThroughput } from "@engram/bench";
import {
  type ArchiveStore,
  InMemoryArchiveStore,
  type ListArchivesOptions,
  type NewSessionArchive,
  SessionBufferManager,
} from "../src/index.js";

const text = "Could you help me compare the two deployment plans and list the risks of each one?";

const ADDS = 10_000;
const SESSIONS = 100;
await benchThroughput({
  name: "session-buffer.addMessage",
  opsPerRun: ADDS,
  run: async () => {
    const manager = new SessionBufferManager();
    for (let i = 0; i < ADDS; i++) {
      await manager.addMessage(`s${i % SESSIONS}`, {
        role: i % 2 === 0 ? "user" : "assistant",
        content: text,
      });
    }
  },
  extra: { sessions: SESSIONS, contentChars: text.length },
});

/** Holds every phase 2 at its first store call until `release()`. */
class GatedArchiveStore extends InMemoryArchiveStore implements ArchiveStore {
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  release(): void {
    this.#open();
  }
  override async listArchives(sessionId: string, options?: ListArchivesOptions) {
    await this.#gate;
    return super.listArchives(sessionId, options);
  }
  override async writeArchive(archive: NewSessionArchive) {
    await this.#gate;
    return super.writeArchive(archive);
  }
}

const COMMITS = 2_000;
const WAITED_COMMITS = 1_000;
const WARMUP = 50;
const BUFFERED = 20;

async function prefill(manager: SessionBufferManager, prefix: string, sessions: number): Promise<void> {
  for (let s = 0; s < sessions; s++) {
    for (let m = 0; m < BUFFERED; m++) {
      await manager.addMessage(`${prefix}${s}`, { role: m % 2 === 0 ? "user" : "assistant", content: text });
    }
  }
}

// Every sample (warmup included) commits a session of its own, filled beforehand.
const store = new GatedArchiveStore();
const phase1 = new SessionBufferManager({ archiveStore: store });
await prefill(phase1, "c", COMMITS + WARMUP);
let nextPhase1 = 0;
await benchLatency({
  name: "session-buffer.commit.phase1",
  samples: COMMITS,
  warmup: WARMUP,
  sample: async () => {
    const result = await phase1.commit(`c${nextPhase1++}`);
    if (!result.accepted) throw new Error("bench: commit refused");
  },
  extra: { bufferedMessages: BUFFERED },
});
store.release();
await phase1.drain();

const full = new SessionBufferManager({ archiveStore: new InMemoryArchiveStore() });
await prefill(full, "w", WAITED_COMMITS + WARMUP);
let nextFull = 0;
await benchLatency({
  name: "session-buffer.commit.wait",
  samples: WAITED_COMMITS,
  warmup: WARMUP,
  sample: async () => {
    const result = await full.commit(`w${nextFull++}`, { wait: true });
    if (!result.accepted || result.task.status !== "completed") throw new Error("bench: commit failed");
  },
  extra: { bufferedMessages: BUFFERED, store: "in-memory", compressor: "deterministic" },
});
await full.drain();
