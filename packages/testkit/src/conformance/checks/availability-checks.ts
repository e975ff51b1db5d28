import type { MemoryProvider } from "@engram/core";
import { describeThrown, fail } from "../check-result.js";
import { watchNetwork } from "../network-guard.js";
import { runCheck } from "../provider-harness.js";
import type { MemoryProviderTestInitializer } from "../provider-test-initializer.js";

/** `isAvailable` returns a boolean synchronously (hosts call it while composing a session). */
export function isAvailableReturnsBoolean<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async ({ provider }) => {
    let value: unknown;
    try {
      value = provider.isAvailable();
    } catch (error) {
      fail(`isAvailable threw: ${describeThrown(error)}`);
    }
    if (typeof value !== "boolean") {
      fail(
        `isAvailable must return a boolean synchronously, got ${value instanceof Promise ? "a Promise" : typeof value}`,
      );
    }
  });
}

/**
 * `isAvailable` touches no network: fetch, sockets, http(s), DNS and UDP are blocked while it runs and
 * for a short window after it returns, and any attempt fails the check even if the provider caught
 * the error.
 */
export function isAvailableMakesNoNetworkCall<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async ({ provider }) => {
    // A fetch captured before the guard went up opens its socket only once undici has loaded, which
    // can take ~100 ms on the first call; the window covers that.
    const watch = await watchNetwork(() => provider.isAvailable(), { settleMs: 250 });
    if (watch.attempts.length > 0) {
      const apis = [...new Set(watch.attempts.map((a) => a.api))].join(", ");
      fail(`isAvailable tried to reach the network through ${apis}`);
    }
  });
}
