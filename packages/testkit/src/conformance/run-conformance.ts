import type { MemoryProvider } from "@engram/core";
import type { CheckResult } from "./check-result.js";
import {
  assertKnownTargets,
  type ConformanceCheckId,
  type ConformanceSuiteName,
  selectChecks,
  skippedByInitializer,
} from "./conformance-checks.js";
import type { ConformanceFilters, MemoryProviderTestInitializer } from "./provider-test-initializer.js";

/** One check's outcome in a {@link ConformanceReport}. */
export interface ConformanceCheckOutcome {
  readonly id: ConformanceCheckId;
  readonly suite: ConformanceSuiteName;
  readonly title: string;
  readonly result: CheckResult;
}

/** What {@link runMemoryProviderChecks} found: one outcome per selected check. */
export interface ConformanceReport {
  readonly provider: string;
  /** True when no check failed (skipped checks do not count against it). */
  readonly passed: boolean;
  readonly outcomes: readonly ConformanceCheckOutcome[];
  /** Ids of the failed checks, in catalog order. */
  readonly failed: readonly ConformanceCheckId[];
}

/**
 * Runs the selected checks one after another, outside any test runner, between the initializer's
 * `beforeAll` and `afterAll`. Returns a result per check instead of stopping at the first failure.
 * Checks the initializer lists in `skip` are reported as skipped.
 */
export async function runMemoryProviderChecks<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
  filters: ConformanceFilters = {},
): Promise<ConformanceReport> {
  assertKnownTargets(init.skip ?? [], `initializer "${init.name}" skip`);
  const selected = selectChecks(filters);
  const outcomes: ConformanceCheckOutcome[] = [];
  await init.beforeAll?.();
  try {
    for (const c of selected) {
      const result: CheckResult = skippedByInitializer(init, c)
        ? { ok: true, skipped: "skipped by the initializer" }
        : await c.run(init);
      outcomes.push({ id: c.id, suite: c.suite, title: c.title, result });
    }
  } finally {
    await init.afterAll?.();
  }
  const failed = outcomes.filter((o) => !o.result.ok).map((o) => o.id);
  return { provider: init.name, passed: failed.length === 0, outcomes, failed };
}
