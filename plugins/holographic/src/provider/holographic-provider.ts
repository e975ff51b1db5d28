import {
  type ChatMessage,
  type JsonObject,
  type JsonValue,
  type ListMemoriesOptions,
  type MemoryHookContext,
  type MemoryInventory,
  MemoryProvider,
  type MemoryProviderCapabilities,
  type MemoryWriteAction,
  type ProviderInitContext,
  type RememberedFact,
  StoreError,
  type ToolSchema,
} from "@engram/core";
import type { HolographicFactStore } from "../store/holographic-fact-store.js";
import type { Fact } from "../store/types.js";
import { extractDurableFacts } from "./auto-extract.js";
import {
  contradictionsJson,
  FACT_FEEDBACK_TOOL,
  FACT_STORE_ACTIONS,
  FACT_STORE_TOOL,
  FACT_TOOL_SCHEMAS,
  type FactStoreAction,
  factJson,
  factsJson,
  optionalInteger,
  optionalNumber,
  optionalString,
  requireAction,
  requireInteger,
  requireString,
  requireStringArray,
} from "./fact-tools.js";

export interface HolographicProviderProps {
  /**
   * Gives the (shared, already opened) fact store; its scope is the memory this provider sees. Called
   * once, from `initialize`; the provider never closes the store because other sessions use it too.
   */
  readonly openStore: () => Promise<HolographicFactStore>;
  /**
   * Called once from `shutdown`, after this session's writes are flushed, when `openStore` was called:
   * the provider no longer uses the store. `HolographicStores.lease(scope)` gives both props.
   */
  readonly releaseStore?: () => Promise<void>;
  /** Extract preferences and decisions from user messages at session end (default false). */
  readonly autoExtract?: boolean;
  /** Facts below this trust are not recalled by `prefetch` (default 0.3). */
  readonly minTrust?: number;
  /** Facts `prefetch` recalls at most (default 5). */
  readonly prefetchLimit?: number;
}

const MAX_FACT_ID = Number.MAX_SAFE_INTEGER;

/** A fact id as the memory inventory passes it (decimal text); `undefined` for anything else. */
function parseFactId(id: string): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(id)) return undefined;
  const factId = Number(id);
  return factId > MAX_FACT_ID ? undefined : factId;
}

function toRememberedFact(fact: Fact): RememberedFact {
  return {
    id: String(fact.id),
    content: fact.content,
    category: fact.category,
    trust: fact.trust,
    createdAt: fact.createdAt.getTime(),
    updatedAt: fact.updatedAt.getTime(),
  };
}

/**
 * The holographic fact store as a memory provider: recalls trusted facts before model calls, offers
 * the `fact_store` and `fact_feedback` tools, mirrors the host's memory writes, and (with
 * `autoExtract`) stores the user's stated preferences and decisions when a session ends.
 * Local only: no network.
 */
export class HolographicProvider extends MemoryProvider implements MemoryInventory {
  readonly name = "holographic";
  override readonly capabilities: Readonly<MemoryProviderCapabilities>;
  private readonly props: HolographicProviderProps;
  private store: HolographicFactStore | undefined;
  private sessionId: string | undefined;

  constructor(props: HolographicProviderProps) {
    super();
    this.props = props;
    this.capabilities = Object.freeze({
      tools: true,
      prefetch: true,
      syncTurn: false,
      sessionEnd: props.autoExtract === true,
      sessionSwitch: false,
      compression: false,
      network: false,
    });
  }

  isAvailable(): boolean {
    return true;
  }

  async initialize(ctx: ProviderInitContext): Promise<void> {
    this.sessionId = ctx.sessionId;
    this.store = await this.props.openStore();
  }

  getToolSchemas(): ToolSchema[] {
    return FACT_TOOL_SCHEMAS.map((schema) => structuredClone(schema));
  }

  override systemPromptBlock(): string {
    const count = this.store?.size ?? 0;
    return (
      `# Holographic memory\nA local fact store holds ${count} fact${count === 1 ? "" : "s"}. ` +
      "Use fact_store to add durable facts (preferences, decisions, project details) and to search, probe " +
      "an entity or reason across entities; rate recalled facts with fact_feedback."
    );
  }

  override async prefetch(query: string, _ctx: MemoryHookContext): Promise<string> {
    const store = this.requireStore();
    if (!query.trim()) return "";
    const facts = await store.search(query, {
      minTrust: this.props.minTrust ?? 0.3,
      limit: this.props.prefetchLimit ?? 5,
    });
    return facts
      .map((fact) => `- [${fact.category}] ${fact.content} (fact ${fact.id}, trust ${fact.trust.toFixed(2)})`)
      .join("\n");
  }

  override async onSessionEnd(messages: readonly ChatMessage[]): Promise<void> {
    if (this.props.autoExtract !== true) return;
    const store = this.requireStore();
    const userMessages = messages
      .filter((message) => message.role === "user")
      .map((message) => message.content);
    const facts = extractDurableFacts(userMessages);
    if (facts.length === 0) return;
    await store.addMany(facts.map((fact) => ({ content: fact.content, category: fact.category })));
  }

  override async onMemoryWrite(
    action: MemoryWriteAction,
    target: string,
    content: string,
    _metadata: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    // Only additions are mirrored: the builtin memory's replace/remove address its own entries, which
    // have no stable identity here.
    if (action !== "add" || !content.trim()) return;
    await this.requireStore().add({ content, category: target === "user" ? "user_pref" : "general" });
  }

  /**
   * The facts of this provider's scope, by trust then recency. A query keeps the facts whose content,
   * tags or category contain it (case-insensitive): a plain filter, so browsing never counts as a
   * retrieval and never moves trust the way `search` does.
   */
  async listMemories(options: ListMemoriesOptions = {}): Promise<RememberedFact[]> {
    const store = this.requireStore();
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? 200), 1), 1000);
    const needle = options.query?.trim().toLowerCase() ?? "";
    const facts = store.list({ limit: 1000 });
    const matching = needle
      ? facts.filter((fact) =>
          [fact.content, fact.tags, fact.category].some((text) => text.toLowerCase().includes(needle)),
        )
      : facts;
    return matching.slice(0, limit).map(toRememberedFact);
  }

  /** Removes the fact with this id (a decimal fact id); `false` for anything it does not hold. */
  async deleteMemory(id: string): Promise<boolean> {
    const factId = parseFactId(id);
    return factId === undefined ? false : this.requireStore().remove(factId);
  }

  /**
   * Corrects a fact's text (its entities and vector follow, its trust stays); `undefined` for an id it
   * does not hold. Text another fact already has is a `CONFLICT`.
   */
  async updateMemory(id: string, content: string): Promise<RememberedFact | undefined> {
    const store = this.requireStore();
    const factId = parseFactId(id);
    if (factId === undefined || !store.get(factId)) return undefined;
    return toRememberedFact(await store.update(factId, { content }));
  }

  override async handleToolCall(name: string, args: JsonObject): Promise<JsonValue> {
    const store = this.requireStore();
    if (name === FACT_FEEDBACK_TOOL) {
      const action = requireAction(args, ["helpful", "unhelpful"] as const);
      const factId = requireInteger(args, "fact_id", 1, MAX_FACT_ID);
      const result = await store.feedback(factId, action === "helpful");
      return {
        fact_id: result.factId,
        old_trust: result.oldTrust,
        new_trust: result.newTrust,
        helpful_count: result.helpfulCount,
      };
    }
    if (name !== FACT_STORE_TOOL) return super.handleToolCall(name, args);
    return this.factStore(store, requireAction<FactStoreAction>(args, FACT_STORE_ACTIONS), args);
  }

  private async factStore(
    store: HolographicFactStore,
    action: FactStoreAction,
    args: JsonObject,
  ): Promise<JsonValue> {
    const category = optionalString(args, "category");
    const limit = optionalInteger(args, "limit", 1, 100);
    const scope = {
      ...(category === undefined ? {} : { category }),
      ...(limit === undefined ? {} : { limit }),
    };
    switch (action) {
      case "add": {
        const tags = optionalString(args, "tags");
        const { fact, created } = await store.add({
          content: requireString(args, "content"),
          ...(category === undefined ? {} : { category }),
          ...(tags === undefined ? {} : { tags }),
        });
        return { created, fact: factJson(fact) };
      }
      case "search": {
        const minTrust = optionalNumber(args, "min_trust", 0, 1);
        return factsJson(
          await store.search(requireString(args, "query"), {
            ...scope,
            ...(minTrust === undefined ? {} : { minTrust }),
          }),
        );
      }
      case "probe":
        return factsJson(await store.probe(requireString(args, "entity"), scope));
      case "related":
        return factsJson(await store.related(requireString(args, "entity"), scope));
      case "reason":
        return factsJson(await store.reason(requireStringArray(args, "entities"), scope));
      case "contradict":
        return contradictionsJson(await store.contradict(scope));
      case "update": {
        const factId = requireInteger(args, "fact_id", 1, MAX_FACT_ID);
        const content = optionalString(args, "content");
        const tags = optionalString(args, "tags");
        const trustDelta = optionalNumber(args, "trust_delta", -1, 1);
        const fact = await store.update(factId, {
          ...(content === undefined ? {} : { content }),
          ...(category === undefined ? {} : { category }),
          ...(tags === undefined ? {} : { tags }),
          ...(trustDelta === undefined ? {} : { trustDelta }),
        });
        return { updated: true, fact: factJson(fact) };
      }
      case "remove": {
        const factId = requireInteger(args, "fact_id", 1, MAX_FACT_ID);
        return { removed: await store.remove(factId), fact_id: factId };
      }
      case "list": {
        const minTrust = optionalNumber(args, "min_trust", 0, 1);
        return factsJson(store.list({ ...scope, ...(minTrust === undefined ? {} : { minTrust }) }));
      }
    }
  }

  override async shutdown(): Promise<void> {
    // The store is shared with other sessions: make this session's writes durable, leave it open,
    // and tell its owner this provider is done with it.
    const store = this.store;
    if (!store) return;
    this.store = undefined;
    try {
      await store.flush();
    } finally {
      await this.props.releaseStore?.();
    }
  }

  private requireStore(): HolographicFactStore {
    if (!this.store) {
      throw new StoreError("holographic (not initialised)", new Error("initialize() has not completed"));
    }
    return this.store;
  }
}
