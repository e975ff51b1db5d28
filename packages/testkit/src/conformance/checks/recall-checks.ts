import type { MemoryProvider, ProviderInitContext } from "@engram/core";
import { fail, skipCheck } from "../check-result.js";
import { deepFreeze } from "../deep-freeze.js";
import { type ConformanceRun, runCheck } from "../provider-harness.js";
import type { MemoryProviderTestInitializer } from "../provider-test-initializer.js";

/**
 * The recall checks judge whether memory works, not only whether hooks return: session 1 of a scope
 * mirrors a turn and ends; a new provider in session 2 of the same scope must recall it, and a
 * provider of another person's scope must not. A provider that declares prefetch and a write hook
 * (`syncTurn` or `sessionEnd`) but keeps nothing fails here.
 */

function requireMemory<P extends MemoryProvider>(run: ConformanceRun<P>): void {
  const caps = run.capabilities;
  if (caps.prefetch !== true) skipCheck("the provider declares prefetch: false (it recalls nothing)");
  if (caps.syncTurn !== true && caps.sessionEnd !== true) {
    skipCheck("the provider declares neither syncTurn nor sessionEnd (it stores nothing)");
  }
}

/** The context of one session of one person's scope, as a gateway would build it. */
function sessionContext<P extends MemoryProvider>(
  run: ConformanceRun<P>,
  person: string,
  session: string,
): ProviderInitContext {
  return deepFreeze({
    ...run.initContext(run.sessionId(`${person}-${session}`)),
    userId: run.marker(`user${person}`),
    memoryScope: `cli:user:${run.marker(`user${person}`)}`,
  });
}

/** Session 1 of `person`: a mirrored turn and a final transcript mentioning `marker`, ended `ends` times. */
async function rememberInFirstSession<P extends MemoryProvider>(
  run: ConformanceRun<P>,
  marker: string,
  ends: number,
): Promise<void> {
  const ctx = sessionContext(run, "a", "s1");
  const provider = await run.another(ctx);
  const hook = { sessionId: ctx.sessionId };
  await run.hookOf(provider, "initialize (session 1)", (p) => p.initialize(ctx));
  if (run.capabilities.syncTurn === true) {
    await run.hookOf(
      provider,
      "syncTurn (session 1)",
      (p) => p.syncTurn(run.turn(ctx.sessionId, marker), hook),
      run.timeouts.syncTurnMs,
    );
  }
  for (let i = 0; i < ends; i++) {
    await run.hookOf(provider, `onSessionEnd #${i + 1} (session 1)`, (p) =>
      p.onSessionEnd(run.transcript(marker), hook),
    );
  }
  await run.hookOf(provider, "shutdown (session 1)", (p) => p.shutdown(), run.timeouts.shutdownMs);
}

/** What a fresh provider in `session` of `person` recalls for a question about `marker`. */
async function recallIn<P extends MemoryProvider>(
  run: ConformanceRun<P>,
  person: string,
  session: string,
  marker: string,
): Promise<string> {
  const ctx = sessionContext(run, person, session);
  const provider = await run.another(ctx);
  const query = `Which ${marker} tea blend do I prefer, and when does the ${marker} project ship?`;
  await run.hookOf(provider, `initialize (${person} ${session})`, (p) => p.initialize(ctx));
  await run.hookOf(provider, `queuePrefetch (${person} ${session})`, (p) =>
    p.queuePrefetch(query, { sessionId: ctx.sessionId }),
  );
  const recalled = await run.hookOf(provider, `prefetch (${person} ${session})`, (p) =>
    p.prefetch(query, { sessionId: ctx.sessionId }),
  );
  if (typeof recalled !== "string") fail(`prefetch returned ${typeof recalled}, not a string`);
  return recalled;
}

/** What session 1 mirrored and committed is recalled by `prefetch` in session 2 of the same scope. */
export function committedMemoryIsRecalledInALaterSession<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    requireMemory(run);
    const marker = run.marker("recall");
    await rememberInFirstSession(run, marker, 1);
    const recalled = await recallIn(run, "a", "s2", marker);
    if (!recalled.includes(marker)) {
      fail(
        `a new session of the same scope recalled nothing of session 1 (prefetch gave ${JSON.stringify(recalled.slice(0, 200))}); ` +
          "providers from createProvider(ctx) must share one backing store",
      );
    }
  });
}

/** Another person's scope never recalls what session 1 committed. */
export function otherScopesNeverRecallIt<P extends MemoryProvider>(init: MemoryProviderTestInitializer<P>) {
  return runCheck(init, async (run) => {
    requireMemory(run);
    const marker = run.marker("scoped");
    await rememberInFirstSession(run, marker, 1);
    const own = await recallIn(run, "a", "s2", marker);
    // Without a positive recall the negative one proves nothing: the first check reports that case.
    if (!own.includes(marker)) skipCheck("the same scope recalls nothing either (see the recall check)");
    const other = await recallIn(run, "b", "s1", marker);
    if (other.includes(marker)) {
      fail(`another user's scope recalled session 1's memory: ${JSON.stringify(other.slice(0, 200))}`);
    }
  });
}

/**
 * A session end delivered twice (a host retrying after a crash) commits nothing twice: the later
 * session recalls every line about the session once.
 */
export function secondSessionEndCommitsNothingTwice<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async (run) => {
    requireMemory(run);
    const marker = run.marker("twice");
    await rememberInFirstSession(run, marker, 2);
    const recalled = await recallIn(run, "a", "s2", marker);
    if (!recalled.includes(marker)) skipCheck("nothing was recalled (see the recall check)");
    const lines = recalled
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.includes(marker));
    const repeated = lines.filter((line, i) => lines.indexOf(line) !== i);
    if (repeated.length > 0) {
      fail(`after two session ends prefetch recalls a line more than once: ${JSON.stringify(repeated[0])}`);
    }
  });
}
