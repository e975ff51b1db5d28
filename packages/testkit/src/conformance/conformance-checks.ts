import type { MemoryProvider } from "@engram/core";
import type { CheckResult } from "./check-result.js";
import { isAvailableMakesNoNetworkCall, isAvailableReturnsBoolean } from "./checks/availability-checks.js";
import { declaresNameVersionAndCapabilities } from "./checks/declaration-checks.js";
import {
  hooksAcceptDocumentedOrder,
  hooksTolerateRepeats,
  managerFanOutsSucceed,
  syncTurnIsBounded,
} from "./checks/lifecycle-checks.js";
import {
  committedMemoryIsRecalledInALaterSession,
  otherScopesNeverRecallIt,
  secondSessionEndCommitsNothingTwice,
} from "./checks/recall-checks.js";
import { sessionEndIsIdempotent } from "./checks/session-end-checks.js";
import {
  nonResetSwitchFilesLaterWritesUnderNewId,
  resetSwitchFilesNewSessionUnderNewId,
  resetSwitchNeverFilesOldSessionUnderNewId,
  sessionSwitchAcceptsEveryReason,
} from "./checks/session-switch-checks.js";
import { shutdownIsIdempotentAndBounded, shutdownWithoutInitializeIsSafe } from "./checks/shutdown-checks.js";
import {
  invalidToolArgumentsAreRejectedWithACode,
  managerReportsStructuredToolErrors,
  sampleToolCallsSucceed,
  unknownToolIsRejectedWithACode,
} from "./checks/tool-call-checks.js";
import {
  toolNamesAreUnique,
  toolSchemasAreStable,
  toolSchemasAreValid,
  toolsRegisterWithManager,
} from "./checks/tool-schema-checks.js";
import type { ConformanceFilters, MemoryProviderTestInitializer } from "./provider-test-initializer.js";

/** One conformance check: runs on a fresh provider from the initializer and never throws. */
export type ConformanceCheckFn = <P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) => Promise<CheckResult>;

/**
 * Every check as a plain async function, by id. Call one directly to test a provider without Vitest,
 * or to assert that a deliberately broken provider fails exactly the checks it should.
 */
export const checks = {
  declaresNameVersionAndCapabilities,
  isAvailableReturnsBoolean,
  isAvailableMakesNoNetworkCall,
  toolSchemasAreValid,
  toolNamesAreUnique,
  toolSchemasAreStable,
  toolsRegisterWithManager,
  invalidToolArgumentsAreRejectedWithACode,
  unknownToolIsRejectedWithACode,
  managerReportsStructuredToolErrors,
  sampleToolCallsSucceed,
  hooksAcceptDocumentedOrder,
  hooksTolerateRepeats,
  syncTurnIsBounded,
  managerFanOutsSucceed,
  sessionSwitchAcceptsEveryReason,
  resetSwitchFilesNewSessionUnderNewId,
  resetSwitchNeverFilesOldSessionUnderNewId,
  nonResetSwitchFilesLaterWritesUnderNewId,
  sessionEndIsIdempotent,
  committedMemoryIsRecalledInALaterSession,
  otherScopesNeverRecallIt,
  secondSessionEndCommitsNothingTwice,
  shutdownIsIdempotentAndBounded,
  shutdownWithoutInitializeIsSafe,
} as const satisfies Record<string, ConformanceCheckFn>;

export type ConformanceCheckId = keyof typeof checks;

/** The suites, in the order `describeMemoryProvider` registers them. */
export const CONFORMANCE_SUITES = [
  "declaration",
  "availability",
  "toolSchemas",
  "toolCalls",
  "lifecycle",
  "sessionSwitch",
  "sessionEnd",
  "recall",
  "shutdown",
] as const;

export type ConformanceSuiteName = (typeof CONFORMANCE_SUITES)[number];

/** A check with the suite it belongs to and the sentence its test is named with. */
export interface ConformanceCheck {
  readonly id: ConformanceCheckId;
  readonly suite: ConformanceSuiteName;
  readonly title: string;
  readonly run: ConformanceCheckFn;
}

const check = (id: ConformanceCheckId, suite: ConformanceSuiteName, title: string): ConformanceCheck => ({
  id,
  suite,
  title,
  run: checks[id],
});

/** The catalog: every check, grouped by suite in registration order. */
export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = Object.freeze([
  check(
    "declaresNameVersionAndCapabilities",
    "declaration",
    "declares a name, this core's apiVersion and the initializer's capabilities",
  ),
  check("isAvailableReturnsBoolean", "availability", "isAvailable returns a boolean synchronously"),
  check("isAvailableMakesNoNetworkCall", "availability", "isAvailable makes no network call"),
  check("toolSchemasAreValid", "toolSchemas", "tool schemas are well-formed JSON Schema objects"),
  check("toolNamesAreUnique", "toolSchemas", "tool names are unique and none is reserved"),
  check(
    "toolSchemasAreStable",
    "toolSchemas",
    "tool names stay the same across initialize and repeated calls",
  ),
  check("toolsRegisterWithManager", "toolSchemas", "a MemoryManager routes every declared tool"),
  check(
    "invalidToolArgumentsAreRejectedWithACode",
    "toolCalls",
    "handleToolCall rejects schema-violating arguments with a coded error",
  ),
  check(
    "unknownToolIsRejectedWithACode",
    "toolCalls",
    "handleToolCall rejects an unknown tool name with a coded error",
  ),
  check(
    "managerReportsStructuredToolErrors",
    "toolCalls",
    "through a MemoryManager bad tool calls come back as structured errors",
  ),
  check("sampleToolCallsSucceed", "toolCalls", "sample tool calls succeed with plain JSON values"),
  check("hooksAcceptDocumentedOrder", "lifecycle", "hooks accept the documented order with frozen arguments"),
  check("hooksTolerateRepeats", "lifecycle", "hooks tolerate repeated calls"),
  check("syncTurnIsBounded", "lifecycle", "syncTurn never blocks beyond its bound"),
  check("managerFanOutsSucceed", "lifecycle", "every MemoryManager fan-out succeeds without warnings"),
  check(
    "sessionSwitchAcceptsEveryReason",
    "sessionSwitch",
    "onSessionSwitch accepts every reason, reset or not",
  ),
  check(
    "resetSwitchFilesNewSessionUnderNewId",
    "sessionSwitch",
    "after a reset switch new-session data is written under the new id, never the old",
  ),
  check(
    "resetSwitchNeverFilesOldSessionUnderNewId",
    "sessionSwitch",
    "after a reset switch old-session buffers never land under the new id",
  ),
  check(
    "nonResetSwitchFilesLaterWritesUnderNewId",
    "sessionSwitch",
    "after a non-reset switch later data is written under the new id",
  ),
  check(
    "sessionEndIsIdempotent",
    "sessionEnd",
    "onSessionEnd with the same messages twice stores nothing new",
  ),
  check(
    "committedMemoryIsRecalledInALaterSession",
    "recall",
    "what a session mirrored and committed is recalled by prefetch in a later session of the same scope",
  ),
  check("otherScopesNeverRecallIt", "recall", "another user's scope never recalls it"),
  check(
    "secondSessionEndCommitsNothingTwice",
    "recall",
    "a second session end commits nothing twice: each recalled line appears once",
  ),
  check("shutdownIsIdempotentAndBounded", "shutdown", "shutdown is bounded and idempotent"),
  check("shutdownWithoutInitializeIsSafe", "shutdown", "shutdown is safe without initialize"),
]);

const SUITE_SET: ReadonlySet<string> = new Set(CONFORMANCE_SUITES);

/** Throws a `TypeError` naming any filter or skip entry that is neither a suite nor a check id. */
export function assertKnownTargets(targets: readonly string[], where: string): void {
  const unknown = targets.filter((t) => !SUITE_SET.has(t) && !Object.hasOwn(checks, t));
  if (unknown.length > 0) {
    throw new TypeError(
      `${where} names unknown suites or checks: ${unknown.join(", ")} (suites: ${CONFORMANCE_SUITES.join(", ")})`,
    );
  }
}

function matches(c: ConformanceCheck, targets: readonly string[]): boolean {
  return targets.includes(c.suite) || targets.includes(c.id);
}

/** The checks `filters` select, in catalog order. Unknown names throw, so a typo never hides a check. */
export function selectChecks(filters: ConformanceFilters = {}): ConformanceCheck[] {
  assertKnownTargets(filters.only ?? [], "filters.only");
  assertKnownTargets(filters.skip ?? [], "filters.skip");
  return CONFORMANCE_CHECKS.filter(
    (c) => (filters.only === undefined || matches(c, filters.only)) && !matches(c, filters.skip ?? []),
  );
}

/** Whether the initializer's own `skip` list names the check or its suite. */
export function skippedByInitializer<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
  c: ConformanceCheck,
): boolean {
  return matches(c, init.skip ?? []);
}
