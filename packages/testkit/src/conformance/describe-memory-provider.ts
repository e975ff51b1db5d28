import type { MemoryProvider } from "@engram/core";
import { afterAll, assert, beforeAll, describe, it } from "vitest";
import {
  assertKnownTargets,
  CONFORMANCE_SUITES,
  type ConformanceSuiteName,
  selectChecks,
  skippedByInitializer,
} from "./conformance-checks.js";
import { resolveTimeouts } from "./provider-harness.js";
import type { ConformanceFilters, MemoryProviderTestInitializer } from "./provider-test-initializer.js";

const SUITE_TITLES: Record<ConformanceSuiteName, string> = {
  declaration: "declaration",
  availability: "isAvailable",
  toolSchemas: "tool schemas",
  toolCalls: "tool calls",
  lifecycle: "lifecycle",
  sessionSwitch: "session switch",
  sessionEnd: "session end",
  recall: "recall across sessions",
  shutdown: "shutdown",
};

/**
 * A Vitest timeout no correct provider comes near: a check makes a handful of bounded calls and
 * returns at its first failure, so a few bounds plus slack cover even a provider that hangs.
 */
function testTimeout<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>): number {
  const t = resolveTimeouts(init.timeouts);
  return 4 * Math.max(t.hookMs, t.shutdownMs, t.toolMs, t.syncTurnMs) + 10_000;
}

function registerHooks<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>): void {
  assertKnownTargets(init.skip ?? [], `initializer "${init.name}" skip`);
  const before = init.beforeAll;
  const after = init.afterAll;
  if (before) beforeAll(async () => void (await before()), init.beforeAllTimeout);
  if (after) afterAll(async () => void (await after()));
}

function registerSuites<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
  filters: ConformanceFilters,
  suites: readonly ConformanceSuiteName[],
): void {
  const selected = selectChecks(filters).filter((c) => suites.includes(c.suite));
  const timeout = testTimeout(init);
  for (const suite of suites) {
    const inSuite = selected.filter((c) => c.suite === suite);
    if (inSuite.length === 0) continue;
    describe(SUITE_TITLES[suite], () => {
      for (const c of inSuite) {
        const test = skippedByInitializer(init, c) ? it.skip : it;
        test(
          c.title,
          async (ctx) => {
            const result = await c.run(init);
            if (!result.ok) assert.fail(`${c.id}: ${result.reason}`);
            if (result.skipped !== undefined) ctx.skip(result.skipped);
          },
          timeout,
        );
      }
    });
  }
}

function suiteRunner(suite: ConformanceSuiteName) {
  return <P extends MemoryProvider>(
    init: MemoryProviderTestInitializer<P>,
    filters: ConformanceFilters = {},
  ): void => {
    describe(`${init.name} (memory provider conformance)`, () => {
      registerHooks(init);
      registerSuites(init, filters, [suite]);
    });
  };
}

/**
 * Registers the whole conformance kit for one provider: a `describe` named after the initializer with
 * one nested `describe` per suite and one test per check, all using explicit Vitest imports. `filters`
 * narrow it by suite name or check id (`{ only: ["toolSchemas"] }`, `{ skip: ["syncTurnIsBounded"] }`).
 * Each test builds its own provider with `createProvider()`.
 */
export function describeMemoryProvider<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
  filters: ConformanceFilters = {},
): void {
  describe(`${init.name} (memory provider conformance)`, () => {
    registerHooks(init);
    registerSuites(init, filters, CONFORMANCE_SUITES);
  });
}

/** name, apiVersion and capabilities. */
export const declarationTests = suiteRunner("declaration");
/** isAvailable: synchronous, boolean, no network. */
export const availabilityTests = suiteRunner("availability");
/** Tool schemas: well-formed, unique, stable, routable. */
export const toolSchemaTests = suiteRunner("toolSchemas");
/** Tool calls: coded rejections, structured errors through a manager, sample calls. */
export const toolCallTests = suiteRunner("toolCalls");
/** Hook order, repeats, the syncTurn bound, a full MemoryManager session. */
export const lifecycleTests = suiteRunner("lifecycle");
/** Session switches: every reason accepted; data filed under the right session id (needs a probe). */
export const sessionSwitchTests = suiteRunner("sessionSwitch");
/** Session end: idempotent for the same messages. */
export const sessionEndTests = suiteRunner("sessionEnd");
/** Recall: a later session of the same scope recalls what was committed; other scopes never do. */
export const recallTests = suiteRunner("recall");
/** Shutdown: bounded, idempotent, safe without initialize. */
export const shutdownTests = suiteRunner("shutdown");
