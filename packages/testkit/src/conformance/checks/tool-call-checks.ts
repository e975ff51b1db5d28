import { isToolSchema, MemoryManager, type MemoryProvider, type ToolCallResult } from "@engram/core";
import { callWithin } from "../bounded-call.js";
import { describeThrown, fail, skipCheck } from "../check-result.js";
import { deepFreeze } from "../deep-freeze.js";
import { deriveInvalidToolCalls, type InvalidToolCall } from "../invalid-tool-arguments.js";
import { findNonJson } from "../json-value-check.js";
import { type ConformanceRun, runCheck } from "../provider-harness.js";
import type { MemoryProviderTestInitializer } from "../provider-test-initializer.js";
import { readToolSchemas } from "./tool-schema-checks.js";

/** A name no provider offers: `handleToolCall` must reject it like any bad call. */
export const UNKNOWN_TOOL_NAME = "conformance_unknown_tool";

function requireTools<P extends MemoryProvider>(run: ConformanceRun<P>): void {
  if (run.capabilities.tools !== true) skipCheck("the provider declares tools: false");
}

function invalidCalls<P extends MemoryProvider>(run: ConformanceRun<P>): InvalidToolCall[] {
  const derived = readToolSchemas(run, "after initialize")
    .filter(isToolSchema)
    .flatMap(deriveInvalidToolCalls);
  const extra = (run.init.invalidToolCalls ?? []).map((call) => ({
    ...call,
    why: "listed by the initializer",
  }));
  return [...derived, ...extra];
}

function render(call: { name: string; args: unknown }): string {
  return `${call.name}(${JSON.stringify(call.args).slice(0, 120)})`;
}

/**
 * What a provider itself must do with a call it cannot run (bad arguments or a name it does not own):
 * throw or reject, within the tool bound, with an error carrying a stable string `code`
 * (`InvalidArgumentError` -> `INVALID_ARGUMENT`; the base class's `TOOL_NOT_HANDLED` for unknown
 * names). `MemoryManager` surfaces that code to the model. Returning a value reports success, and an
 * uncoded throw (a `TypeError` from unchecked input) shows the input was never validated.
 */
async function expectCodedRejection<P extends MemoryProvider>(
  run: ConformanceRun<P>,
  call: { name: string; args: unknown; why: string },
): Promise<void> {
  const args = deepFreeze(structuredClone(call.args)) as never;
  const outcome = await callWithin(() => run.provider.handleToolCall(call.name, args), run.timeouts.toolMs);
  const at = `${render(call)} (${call.why})`;
  if (outcome.kind === "timedOut") fail(`${at} did not settle within ${run.timeouts.toolMs} ms`);
  if (outcome.kind === "returned") {
    fail(`${at} returned ${JSON.stringify(outcome.value)?.slice(0, 120)} instead of throwing a coded error`);
  }
  const code = (outcome.error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || code === "") {
    fail(`${at} threw without a stable code: ${describeThrown(outcome.error)}`);
  }
}

/** Calls that violate a tool's schema are rejected with a coded error, never run or crashed on. */
export function invalidToolArgumentsAreRejectedWithACode<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    requireTools(run);
    await run.initialize(run.sessionId("bad-args"));
    const calls = invalidCalls(run);
    if (calls.length === 0) skipCheck("no tool schema constrains its arguments and none were listed");
    for (const call of calls) await expectCodedRejection(run, call);
  });
}

/** A tool name the provider does not own is rejected with a coded error (`TOOL_NOT_HANDLED`). */
export function unknownToolIsRejectedWithACode<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    requireTools(run);
    await run.initialize(run.sessionId("unknown-tool"));
    await expectCodedRejection(run, { name: UNKNOWN_TOOL_NAME, args: {}, why: "not a tool of the provider" });
  });
}

async function managerFor<P extends MemoryProvider>(run: ConformanceRun<P>): Promise<MemoryManager> {
  const manager = new MemoryManager({
    hookTimeoutMs: run.timeouts.hookMs,
    toolTimeoutMs: run.timeouts.toolMs,
  });
  const registration = manager.addProvider(run.provider);
  if (!registration.added) fail(`MemoryManager refused the provider (${registration.refusal})`);
  const [initialized] = await manager.initializeAll(run.initContext(run.sessionId("manager")));
  if (initialized && !initialized.ok)
    fail(`initialize failed under MemoryManager: ${initialized.error.message}`);
  return manager;
}

async function routedCall(
  manager: MemoryManager,
  call: { name: string; args: unknown },
): Promise<ToolCallResult> {
  try {
    return await manager.handleToolCall(call.name, deepFreeze(structuredClone(call.args)) as never);
  } catch (error) {
    fail(`MemoryManager.handleToolCall threw out for ${render(call)}: ${describeThrown(error)}`);
  }
}

/**
 * Through a `MemoryManager`, every invalid call comes back as `{ ok: false, error: { code, message } }`
 * in plain JSON, within the tool bound, and nothing throws out.
 */
export function managerReportsStructuredToolErrors<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    requireTools(run);
    const manager = await managerFor(run);
    const calls = [...invalidCalls(run)];
    if (calls.length === 0) skipCheck("no tool schema constrains its arguments and none were listed");
    for (const call of calls) {
      const result = await routedCall(manager, call);
      const at = `${render(call)} (${call.why})`;
      const nonJson = findNonJson(result);
      if (nonJson !== undefined) fail(`${at}: the result is not plain JSON at ${nonJson}`);
      if (result.ok) fail(`${at} was reported as a success: ${JSON.stringify(result.value)?.slice(0, 120)}`);
      if (typeof result.error.code !== "string" || typeof result.error.message !== "string") {
        fail(`${at}: the error lacks a string code and message`);
      }
      if (result.error.code === "PROVIDER_TIMEOUT") fail(`${at} timed out instead of being rejected`);
    }
  });
}

/** Every sample call from the initializer succeeds through a `MemoryManager` with a plain-JSON value. */
export function sampleToolCallsSucceed<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    requireTools(run);
    const samples = init.sampleToolCalls ?? [];
    if (samples.length === 0) skipCheck("the initializer lists no sampleToolCalls");
    const manager = await managerFor(run);
    for (const call of samples) {
      const result = await routedCall(manager, call);
      if (!result.ok) fail(`${render(call)} failed: ${result.error.code} ${result.error.message}`);
      // The manager JSON-round-trips values; check the provider's raw value too, as the contract demands.
      const raw = await run.hook(
        `${call.name} (direct)`,
        (p) => p.handleToolCall(call.name, structuredClone(call.args)),
        run.timeouts.toolMs,
      );
      const nonJson = findNonJson(raw);
      if (nonJson !== undefined)
        fail(`${render(call)} returned a value that is not plain JSON at ${nonJson}`);
    }
  });
}
