import { describe, expect, it } from "vitest";
import { inMemoryMemoryProviderTestInitializer } from "../reference/in-memory-memory-provider-initializer.js";
import { CONFORMANCE_CHECKS, CONFORMANCE_SUITES, checks, selectChecks } from "./conformance-checks.js";
import { runMemoryProviderChecks } from "./run-conformance.js";

describe("the check catalog", () => {
  it("lists every check function exactly once, in a known suite", () => {
    expect(CONFORMANCE_CHECKS.map((c) => c.id).sort()).toEqual(Object.keys(checks).sort());
    for (const c of CONFORMANCE_CHECKS) expect(CONFORMANCE_SUITES).toContain(c.suite);
    expect(new Set(CONFORMANCE_CHECKS.map((c) => c.title)).size).toBe(CONFORMANCE_CHECKS.length);
  });

  it("selects by suite or check id, and skip wins over only", () => {
    expect(selectChecks({ only: ["shutdown"] }).map((c) => c.id)).toEqual([
      "shutdownIsIdempotentAndBounded",
      "shutdownWithoutInitializeIsSafe",
    ]);
    expect(
      selectChecks({
        only: ["shutdown", "syncTurnIsBounded"],
        skip: ["shutdownWithoutInitializeIsSafe"],
      }).map((c) => c.id),
    ).toEqual(["syncTurnIsBounded", "shutdownIsIdempotentAndBounded"]);
    expect(selectChecks()).toHaveLength(CONFORMANCE_CHECKS.length);
  });

  it("throws on a filter name that is neither a suite nor a check, so typos never hide checks", () => {
    expect(() => selectChecks({ only: ["toolSchema"] })).toThrow(TypeError);
    expect(() => selectChecks({ skip: ["nope"] })).toThrow(/nope/);
  });
});

describe("runMemoryProviderChecks", () => {
  it("reports checks the initializer skips as skipped, not failed", async () => {
    const init = { ...inMemoryMemoryProviderTestInitializer(), skip: ["sessionEnd"] };
    const report = await runMemoryProviderChecks(init, { only: ["sessionEnd", "shutdown"] });
    expect(report.passed).toBe(true);
    expect(report.outcomes.map((o) => [o.id, o.result])).toEqual([
      ["sessionEndIsIdempotent", { ok: true, skipped: "skipped by the initializer" }],
      ["shutdownIsIdempotentAndBounded", { ok: true }],
      ["shutdownWithoutInitializeIsSafe", { ok: true }],
    ]);
  });

  it("skips the checks that need a probe when the initializer has none, with the reason", async () => {
    const { probe: _probe, ...init } = inMemoryMemoryProviderTestInitializer();
    const report = await runMemoryProviderChecks(init, { only: ["sessionSwitch"] });
    expect(report.failed).toEqual([]);
    const skipped = report.outcomes
      .filter((o) => o.result.ok && o.result.skipped !== undefined)
      .map((o) => o.id);
    expect(skipped).toEqual([
      "resetSwitchFilesNewSessionUnderNewId",
      "resetSwitchNeverFilesOldSessionUnderNewId",
      "nonResetSwitchFilesLaterWritesUnderNewId",
    ]);
  });

  it("falls back to prefetch for session-end idempotency without a probe", async () => {
    const { probe: _probe, ...init } = inMemoryMemoryProviderTestInitializer();
    const report = await runMemoryProviderChecks(init, { only: ["sessionEndIsIdempotent"] });
    expect(report.outcomes[0]?.result).toEqual({ ok: true });
  });

  it("runs beforeAll and afterAll around the checks and reports a failing createProvider", async () => {
    const calls: string[] = [];
    const report = await runMemoryProviderChecks(
      {
        name: "no provider",
        capabilities: {},
        createProvider: () => {
          calls.push("create");
          throw new Error("cannot connect");
        },
        beforeAll: () => void calls.push("beforeAll"),
        afterAll: () => void calls.push("afterAll"),
      },
      { only: ["shutdownWithoutInitializeIsSafe"] },
    );
    expect(calls).toEqual(["beforeAll", "create", "afterAll"]);
    expect(report.outcomes[0]?.result).toMatchObject({
      ok: false,
      reason: expect.stringContaining("createProvider threw"),
    });
  });
});
