import type { MemoryProvider } from "@engram/core";
import { fail, skipCheck } from "../check-result.js";
import { runCheck } from "../provider-harness.js";
import type { MemoryProviderTestInitializer, ProbedWrite } from "../provider-test-initializer.js";

function fingerprint(writes: readonly ProbedWrite[]): string[] {
  return writes.map((w) => JSON.stringify([w.sessionId ?? null, w.text])).sort();
}

/**
 * `onSessionEnd` with the same messages twice stores nothing the second time: the probe shows the
 * same writes after both (or, without a probe, `prefetch` recalls the same text after both).
 */
export function sessionEndIsIdempotent<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    const session = run.sessionId("end");
    const marker = run.marker("end");
    const messages = run.transcript(marker);
    const ctx = { sessionId: session };
    const observe = async (): Promise<string[]> => {
      if (init.probe !== undefined) return fingerprint((await run.snapshot()).writes);
      if (run.capabilities.prefetch === true) {
        return [await run.hook("prefetch", (p) => p.prefetch(`${marker} tea`, ctx))];
      }
      skipCheck("the initializer supplies no probe and the provider declares prefetch: false");
    };
    await run.initialize(session);
    await run.hook("syncTurn", (p) => p.syncTurn(run.turn(session, marker), ctx), run.timeouts.syncTurnMs);
    await run.hook("onSessionEnd", (p) => p.onSessionEnd(messages));
    const once = await observe();
    await run.hook("onSessionEnd (same messages again)", (p) => p.onSessionEnd(messages));
    const twice = await observe();
    if (once.length !== twice.length || once.some((entry, i) => entry !== twice[i])) {
      const added = twice.length - once.length;
      fail(
        init.probe !== undefined
          ? `the second onSessionEnd with the same messages changed the writes (${added >= 0 ? "+" : ""}${added})`
          : "prefetch recalls something different after the second onSessionEnd with the same messages",
      );
    }
  });
}
