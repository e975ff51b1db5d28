import type { MemoryProvider, SessionSwitchOptions } from "@engram/core";
import { fail, skipCheck } from "../check-result.js";
import { deepFreeze } from "../deep-freeze.js";
import { type ConformanceRun, runCheck } from "../provider-harness.js";
import type { MemoryProviderTestInitializer, ProbedWrite } from "../provider-test-initializer.js";
import { boundedSyncTurn } from "./lifecycle-checks.js";

const SWITCHES: readonly Omit<SessionSwitchOptions, "parentSessionId">[] = [
  { reason: "new_session", reset: true, rewound: false },
  { reason: "reset", reset: true, rewound: false },
  { reason: "resume", reset: false, rewound: false },
  { reason: "branch", reset: false, rewound: false },
  { reason: "compression", reset: false, rewound: false },
  { reason: "rewind", reset: false, rewound: true },
  // Providers must treat a reason they do not know like a non-reset switch.
  { reason: "conformance_future_reason", reset: false, rewound: false },
];

/** Every switch reason, reset or not, with or without a parent, is accepted and later turns still sync. */
export function sessionSwitchAcceptsEveryReason<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    let current = run.sessionId("switch-0");
    await run.initialize(current);
    let n = 0;
    for (const withParent of [true, false]) {
      for (const options of SWITCHES) {
        n += 1;
        const next = run.sessionId(`switch-${n}`);
        const frozen = deepFreeze({ ...options, parentSessionId: withParent ? current : undefined });
        await run.hook(`onSessionSwitch(${options.reason})`, (p) => p.onSessionSwitch(next, frozen));
        await boundedSyncTurn(run, next, run.marker(`switch${n}`));
        current = next;
      }
    }
  });
}

interface SwitchScenario {
  readonly oldId: string;
  readonly newId: string;
  /** Markers of data produced before the switch. */
  readonly oldMarkers: readonly string[];
  /** Markers of data produced after it. */
  readonly newMarkers: readonly string[];
  readonly writes: readonly ProbedWrite[];
}

/**
 * Syncs two turns, switches, syncs a turn and ends the session, shuts down, then probes. The session
 * end carries no session id, so a provider that kept the id cached at `initialize` is caught there.
 */
async function switchScenario<P extends MemoryProvider>(
  run: ConformanceRun<P>,
  options: Omit<SessionSwitchOptions, "parentSessionId">,
): Promise<SwitchScenario> {
  if (run.init.probe === undefined) skipCheck("the initializer supplies no probe");
  const oldId = run.sessionId("old");
  const newId = run.sessionId("new");
  const oldMarkers = [run.marker("old1"), run.marker("old2")];
  const newMarkers = [run.marker("new1"), run.marker("newend")];
  await run.initialize(oldId);
  for (const marker of oldMarkers) await boundedSyncTurn(run, oldId, marker);
  const frozen = deepFreeze({ ...options, parentSessionId: oldId });
  await run.hook(`onSessionSwitch(${options.reason})`, (p) => p.onSessionSwitch(newId, frozen));
  await boundedSyncTurn(run, newId, newMarkers[0] ?? "");
  const transcript = run.transcript(newMarkers[1] ?? "");
  await run.hook("onSessionEnd", (p) => p.onSessionEnd(transcript));
  await run.shutdown();
  const { writes } = await run.snapshot();
  return { oldId, newId, oldMarkers, newMarkers, writes };
}

function writesWith(writes: readonly ProbedWrite[], markers: readonly string[]): ProbedWrite[] {
  return writes.filter((w) => typeof w.text === "string" && markers.some((m) => w.text.includes(m)));
}

function expectNewDataUnderNewId<P extends MemoryProvider>(run: ConformanceRun<P>, s: SwitchScenario): void {
  const found = writesWith(s.writes, s.newMarkers);
  const misfiled = found.filter((w) => w.sessionId !== undefined && w.sessionId !== s.newId);
  if (misfiled.length > 0) {
    const where = [
      ...new Set(misfiled.map((w) => (w.sessionId === s.oldId ? "the old session id" : w.sessionId))),
    ];
    fail(`data from after the switch was written under ${where.join(", ")} instead of the new session id`);
  }
  if (found.length === 0) {
    if (run.capabilities.syncTurn === true) {
      fail("the turn synced after the switch was never written (declares syncTurn: true)");
    }
    skipCheck("the provider wrote nothing observable for the new session");
  }
}

/** After a reset switch, everything from the new session is written under the new id, never the old. */
export function resetSwitchFilesNewSessionUnderNewId<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    const scenario = await switchScenario(run, { reason: "new_session", reset: true, rewound: false });
    expectNewDataUnderNewId(run, scenario);
  });
}

/**
 * After a reset switch, per-session buffers of the old session are flushed under the old id (or
 * dropped): nothing from the old session is ever written under the new id.
 */
export function resetSwitchNeverFilesOldSessionUnderNewId<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    const s = await switchScenario(run, { reason: "reset", reset: true, rewound: false });
    const leaked = writesWith(s.writes, s.oldMarkers).filter((w) => w.sessionId === s.newId);
    if (leaked.length > 0)
      fail(`${leaked.length} write(s) of the old session were filed under the new session id`);
  });
}

/** After a non-reset switch (compression), later data is written under the new id. */
export function nonResetSwitchFilesLaterWritesUnderNewId<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    const scenario = await switchScenario(run, { reason: "compression", reset: false, rewound: false });
    expectNewDataUnderNewId(run, scenario);
  });
}
