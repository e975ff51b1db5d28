// `pnpm start` until the gateway and web apps exist: shows the memory path end to end on the embedded
// database (PGlite in ./.engram/data, or Postgres when DATABASE_URL is set). A fact stated in session A
// is mirrored after the turn, committed only at the session boundary through MemoryCommitCoordinator,
// and recalled by session B's prefetch.
import path from "node:path";
import { MemoryCommitCoordinator, MemoryManager } from "@engram/core";
import { HolographicFactStore, HolographicProvider, migrateHolographic } from "@engram/provider-holographic";
import { createDatabase } from "@engram/store";

const started = performance.now();
// pnpm runs this from tooling/demo; keep the data folder where the user typed `pnpm start`.
const dataDir =
  process.env.ENGRAM_DATA_DIR ?? path.join(process.env.INIT_CWD ?? process.cwd(), ".engram/data");
const database = await createDatabase(
  process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { dataDir },
);
await migrateHolographic(database.db);
const facts = await HolographicFactStore.open({ db: database.db });
console.log(
  `engram demo: ${database.backend} database ready in ${Math.round(performance.now() - started)} ms`,
);

const coordinator = new MemoryCommitCoordinator();

async function openSession(sessionId) {
  const manager = new MemoryManager();
  manager.addProvider(new HolographicProvider({ openStore: async () => facts, autoExtract: true }));
  await manager.initializeAll({ sessionId, platform: "cli", agentContext: "primary", extra: {} });
  const history = [];
  // The coordinator's agent handle: commit = the providers' extraction boundary.
  const agent = { commitMemorySession: async () => void (await manager.onSessionEnd(history)) };
  coordinator.registerAgent(sessionId, agent);
  return { sessionId, manager, history, agent };
}

async function turn(session, text) {
  const recall = await session.manager.prefetchAll(text, { sessionId: session.sessionId });
  const recalled = recall.recalls.map((r) => `${r.provider}: ${r.text}`).join("\n");
  const reply = recalled
    ? `[offline model] You said: "${text}". From memory I recall:\n${recalled}`
    : `[offline model] You said: "${text}". I have no memories about this yet.`;
  session.history.push({ role: "user", content: text }, { role: "assistant", content: reply });
  session.manager.syncAll(
    { user: text, assistant: reply, timestamp: Date.now() },
    { sessionId: session.sessionId },
  );
  await coordinator.markTurnCompleted(session.sessionId, { agent: session.agent });
  console.log(`\n[${session.sessionId}] user: ${text}\n[${session.sessionId}] ${reply}`);
}

const suffix = Date.now().toString(36);
const a = await openSession(`demo_a_${suffix}`);
await turn(a, "I prefer tabs over spaces");
console.log(`\nuncommitted work in ${a.sessionId}: ${await coordinator.hasUncommittedWork(a.sessionId)}`);
console.log(`session boundary -> commit: ${await coordinator.commitSessionMemory(a.sessionId)}`);
await a.manager.shutdownAll({ deadlineMs: 2_000 });

const b = await openSession(`demo_b_${suffix}`);
await turn(b, "What do I prefer, tabs or spaces?");
await b.manager.shutdownAll({ deadlineMs: 2_000 });

const drained = await coordinator.drainAll({ deadlineMs: 2_000 });
console.log(`\nshutdown drain: ${JSON.stringify(drained)}`);
await database.close();
