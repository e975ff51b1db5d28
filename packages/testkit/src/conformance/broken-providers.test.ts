import { describe, expect, it } from "vitest";
import type {
  InMemoryMemoryProvider,
  InMemoryMemoryProviderProps,
} from "../reference/in-memory-memory-provider.js";
import { inMemoryMemoryProviderTestInitializer } from "../reference/in-memory-memory-provider-initializer.js";
import type { ConformanceCheckId } from "./conformance-checks.js";
import { runMemoryProviderChecks } from "./run-conformance.js";
import {
  ArrayParametersProvider,
  AsyncAvailabilityProvider,
  DoNothingMemoryProvider,
  DuplicateToolProvider,
  FetchingAvailabilityProvider,
  GarbageToolProvider,
  HangingShutdownProvider,
  LeakyBufferProvider,
  MutatingSessionEndProvider,
  OneShotShutdownProvider,
  OverclaimingProvider,
  RepeatingSessionEndProvider,
  SlowSyncTurnProvider,
  SocketAvailabilityProvider,
  StaleSessionIdProvider,
  UncheckedArgumentsProvider,
  UndeclaredRequiredProvider,
} from "./test-support/broken-providers.js";

// Small bounds keep the hanging and slow providers quick to judge.
const timeouts = { hookMs: 400, syncTurnMs: 100, shutdownMs: 150, toolMs: 400 };

function initializer(name: string, create: (props: InMemoryMemoryProviderProps) => InMemoryMemoryProvider) {
  return inMemoryMemoryProviderTestInitializer({ name, create, timeouts });
}

// Every check that ends by shutting the provider down (or drives a MemoryManager that does).
const SHUTS_DOWN: ConformanceCheckId[] = [
  "hooksAcceptDocumentedOrder",
  "hooksTolerateRepeats",
  "managerFanOutsSucceed",
  "resetSwitchFilesNewSessionUnderNewId",
  "resetSwitchNeverFilesOldSessionUnderNewId",
  "nonResetSwitchFilesLaterWritesUnderNewId",
  "committedMemoryIsRecalledInALaterSession",
  "otherScopesNeverRecallIt",
  "secondSessionEndCommitsNothingTwice",
  "shutdownIsIdempotentAndBounded",
  "shutdownWithoutInitializeIsSafe",
];

const CASES: [
  string,
  (props: InMemoryMemoryProviderProps) => InMemoryMemoryProvider,
  ConformanceCheckId[],
][] = [
  [
    "a provider whose isAvailable calls fetch",
    (p) => new FetchingAvailabilityProvider(p),
    ["isAvailableMakesNoNetworkCall"],
  ],
  [
    "a provider whose isAvailable opens a socket",
    (p) => new SocketAvailabilityProvider(p),
    ["isAvailableMakesNoNetworkCall"],
  ],
  [
    "a provider whose isAvailable returns a Promise",
    (p) => new AsyncAvailabilityProvider(p),
    // A MemoryManager refuses a provider whose isAvailable is not `true`.
    [
      "isAvailableReturnsBoolean",
      "toolsRegisterWithManager",
      "managerReportsStructuredToolErrors",
      "sampleToolCallsSucceed",
      "managerFanOutsSucceed",
    ],
  ],
  [
    "a provider that declares a tool twice",
    (p) => new DuplicateToolProvider(p),
    ["toolNamesAreUnique", "toolsRegisterWithManager"],
  ],
  [
    "a provider whose schema requires an undeclared property",
    (p) => new UndeclaredRequiredProvider(p),
    ["toolSchemasAreValid"],
  ],
  [
    "a provider whose tool parameters are not an object schema",
    (p) => new ArrayParametersProvider(p),
    ["toolSchemasAreValid", "toolsRegisterWithManager", "sampleToolCallsSucceed"],
  ],
  [
    "a provider that writes new-session data under the old id",
    (p) => new StaleSessionIdProvider(p),
    ["resetSwitchFilesNewSessionUnderNewId", "nonResetSwitchFilesLaterWritesUnderNewId"],
  ],
  [
    "a provider that carries old-session buffers into the new id on reset",
    (p) => new LeakyBufferProvider(p),
    ["resetSwitchNeverFilesOldSessionUnderNewId"],
  ],
  [
    "a provider whose session end is not idempotent",
    (p) => new RepeatingSessionEndProvider(p),
    ["sessionEndIsIdempotent"],
  ],
  ["a provider whose shutdown hangs", (p) => new HangingShutdownProvider(p), SHUTS_DOWN],
  [
    "a provider whose second shutdown throws",
    (p) => new OneShotShutdownProvider(p),
    ["hooksTolerateRepeats", "shutdownIsIdempotentAndBounded"],
  ],
  [
    "a provider whose tool calls return garbage instead of errors",
    (p) => new GarbageToolProvider(p),
    [
      "invalidToolArgumentsAreRejectedWithACode",
      "unknownToolIsRejectedWithACode",
      "managerReportsStructuredToolErrors",
    ],
  ],
  [
    "a provider that crashes on unchecked tool arguments",
    (p) => new UncheckedArgumentsProvider(p),
    // Through a MemoryManager its crashes are still structured PROVIDER_FAILED errors, but the
    // call it never validates at all (an undeclared argument) is reported as a success.
    ["invalidToolArgumentsAreRejectedWithACode", "managerReportsStructuredToolErrors"],
  ],
  [
    "a provider that overclaims its capabilities",
    (p) => new OverclaimingProvider(p),
    ["declaresNameVersionAndCapabilities"],
  ],
];

describe("the conformance kit on deliberately broken providers", () => {
  it("passes the reference provider on every check", async () => {
    const report = await runMemoryProviderChecks(inMemoryMemoryProviderTestInitializer({ timeouts }));
    expect(report.failed).toEqual([]);
    expect(report.outcomes.filter((o) => o.result.ok && o.result.skipped !== undefined)).toEqual([]);
  });

  it.each(CASES)(
    "fails %s on exactly the checks it breaks",
    async (name, create, expected) => {
      const report = await runMemoryProviderChecks(initializer(name, create));
      expect(report.passed).toBe(false);
      expect([...report.failed].sort()).toEqual([...expected].sort());
      for (const outcome of report.outcomes) {
        if (!outcome.result.ok) expect(outcome.result.reason).toMatch(/\S/);
      }
    },
    30_000,
  );

  it("fails a provider that declares prefetch, syncTurn and sessionEnd but keeps nothing, on recall", async () => {
    // Every hook is a no-op that returns in time: before the recall checks this passed the whole kit.
    const report = await runMemoryProviderChecks({
      name: "do-nothing",
      createProvider: () => new DoNothingMemoryProvider(),
      timeouts,
    });
    expect(report.passed).toBe(false);
    expect(report.failed).toEqual(["committedMemoryIsRecalledInALaterSession"]);
    const recall = report.outcomes.find((o) => o.id === "committedMemoryIsRecalledInALaterSession");
    expect(recall?.result).toMatchObject({ ok: false, reason: expect.stringContaining("recalled nothing") });
  }, 30_000);

  it("fails a provider whose syncTurn outlasts its bound, starting with the syncTurn check", async () => {
    const report = await runMemoryProviderChecks(
      initializer("slow syncTurn", () => new SlowSyncTurnProvider(250)),
    );
    expect(report.failed).toContain("syncTurnIsBounded");
    expect(report.failed).toContain("hooksAcceptDocumentedOrder");
    // Nothing outside the hooks that sync turns is blamed.
    expect(report.failed.filter((id) => id.startsWith("tool") || id.startsWith("isAvailable"))).toEqual([]);
    const reason = report.outcomes.find((o) => o.id === "syncTurnIsBounded")?.result;
    expect(reason).toMatchObject({ ok: false, reason: expect.stringContaining("syncTurn did not settle") });
  }, 30_000);

  it("fails a provider that mutates the transcript it receives, in the hooks that hand it one", async () => {
    const report = await runMemoryProviderChecks(
      initializer("mutating", (p) => new MutatingSessionEndProvider(p)),
    );
    expect(report.failed).toEqual(
      expect.arrayContaining([
        "hooksAcceptDocumentedOrder",
        "hooksTolerateRepeats",
        "sessionEndIsIdempotent",
      ]),
    );
    expect(report.failed.filter((id) => id.startsWith("tool") || id.startsWith("isAvailable"))).toEqual([]);
  }, 30_000);
});
