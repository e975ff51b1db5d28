import type { MemoryProvider } from "@engram/core";
import { runCheck } from "../provider-harness.js";
import type { MemoryProviderTestInitializer } from "../provider-test-initializer.js";
import { boundedSyncTurn } from "./lifecycle-checks.js";

/** `shutdown` settles within the shutdown bound, and so does a second call. */
export function shutdownIsIdempotentAndBounded<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    const session = run.sessionId("shutdown");
    await run.initialize(session);
    await boundedSyncTurn(run, session, run.marker("shutdown"));
    await run.shutdown();
    await run.shutdown("shutdown (second call)");
  });
}

/**
 * `shutdown` is safe on a provider that was never initialised: `MemoryManager` shuts down providers
 * whose `initialize` failed, too.
 */
export function shutdownWithoutInitializeIsSafe<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    await run.shutdown("shutdown without initialize");
  });
}
