import type { CompletedTurn, ProviderInitContext } from "@engram/core";
import { afterEach, expect, it } from "vitest";
import { parseHindsightConfig } from "../config/hindsight-config.js";
import { HindsightProvider } from "../provider/hindsight-provider.js";

/** Where the behaviour suite finds its server; a getter because servers start in `beforeAll`. */
export interface BehaviourTarget {
  readonly url: () => string;
  readonly apiKey?: string;
  /** How long a retain may take to become recallable (a real Hindsight runs an LLM). */
  readonly retainWaitMs: number;
  readonly requestMs: number;
}

let counter = 0;
/** Unique per run, so suites against a shared real server never see each other's facts. */
export function uniqueId(prefix: string): string {
  counter++;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export function turn(user: string, assistant: string, timestamp = Date.now()): CompletedTurn {
  return { user, assistant, timestamp };
}

export function initContext(
  sessionId: string,
  extra: Partial<ProviderInitContext> = {},
): ProviderInitContext {
  return { sessionId, platform: "cli", agentContext: "primary", extra: {}, ...extra };
}

/**
 * Provider behaviour that must hold against the compatible server and against a real Hindsight
 * (`HINDSIGHT_URL`): what a turn retains is recalled before the next one, a session switch keeps the
 * old session's memory, and the tools round-trip.
 */
export function defineProviderBehaviour(target: BehaviourTarget): void {
  const providers: HindsightProvider[] = [];
  const create = (bankId: string) => {
    const provider = new HindsightProvider({
      config: parseHindsightConfig({
        mode: "external",
        baseUrl: target.url(),
        bankId,
        ...(target.apiKey ? { apiKey: target.apiKey } : {}),
        recallTypes: ["observation", "world", "experience"],
        timeouts: { requestMs: target.requestMs, retainWaitMs: target.retainWaitMs, pollIntervalMs: 50 },
      }),
    });
    providers.push(provider);
    return provider;
  };
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((provider) => provider.shutdown()));
  });

  it("recalls the facts of the last turn in the next prefetch", async () => {
    const bank = uniqueId("bank");
    const provider = create(bank);
    const session = uniqueId("s");
    await provider.initialize(initContext(session));
    provider.syncTurn(turn("My favourite editor is Zanzibar Vim.", "Noted: you use Zanzibar Vim."), {
      sessionId: session,
    });
    provider.queuePrefetch("Which editor do I use?", { sessionId: session });
    const text = await provider.prefetch("Which editor do I use?", { sessionId: session });
    expect(text).toContain("Hindsight memory");
    expect(text.toLowerCase()).toContain("zanzibar");
  });

  it("keeps the previous session's memory after /new", async () => {
    const bank = uniqueId("bank");
    const provider = create(bank);
    const first = uniqueId("s");
    const second = uniqueId("s");
    await provider.initialize(initContext(first));
    provider.syncTurn(turn("Quillon Barrett owns the billing service.", "Got it."), { sessionId: first });
    provider.onSessionSwitch(second, {
      parentSessionId: first,
      reset: true,
      rewound: false,
      reason: "new_session",
    });
    provider.syncTurn(turn("Marisol Tenby owns the search service.", "Understood."), { sessionId: second });
    const text = await provider.prefetch("Who owns billing and who owns search?", { sessionId: second });
    expect(text.toLowerCase()).toContain("quillon");
    expect(text.toLowerCase()).toContain("marisol");
  });

  it("retains, recalls and reflects through its tools", async () => {
    const bank = uniqueId("bank");
    const provider = create(bank);
    await provider.initialize(initContext(uniqueId("s")));
    expect(
      await provider.handleToolCall("hindsight_retain", {
        content: "Orvald Pemberton prefers green tea.",
        context: "preference",
      }),
    ).toMatchObject({ stored: true });
    const recalled = (await provider.handleToolCall("hindsight_recall", {
      query: "What does Orvald Pemberton drink?",
    })) as {
      count: number;
      results: Array<{ text: string }>;
    };
    expect(recalled.count).toBeGreaterThan(0);
    expect(
      recalled.results
        .map((result) => result.text)
        .join(" ")
        .toLowerCase(),
    ).toContain("tea");
    const reflected = (await provider.handleToolCall("hindsight_reflect", {
      query: "What does Orvald Pemberton drink?",
    })) as {
      text: string;
      facts: unknown[];
    };
    expect(typeof reflected.text).toBe("string");
    expect(reflected.text.length).toBeGreaterThan(0);
  });
}
