import { randomBytes, randomUUID } from "node:crypto";
import {
  type Clock,
  type CompletedTurn,
  InvalidArgumentError,
  isEngramError,
  type JsonObject,
  type JsonValue,
  type ListMemoriesOptions,
  type Logger,
  type MemoryHookContext,
  type MemoryInventory,
  MemoryProvider,
  type MemoryProviderCapabilities,
  noopLogger,
  type ProviderInitContext,
  type RememberedFact,
  type SessionSwitchOptions,
  systemClock,
  ToolNotHandledError,
  type ToolSchema,
} from "@engram/core";
import { HindsightClient } from "../client/hindsight-client.js";
import {
  type Budget,
  FINISHED_OPERATION_STATUSES,
  type MemoryItem,
  type MemoryUnit,
  type RecallResult,
} from "../client/hindsight-wire.js";
import { resolveBankId } from "../config/bank-id-template.js";
import type { HindsightConfig } from "../config/hindsight-config.js";
import { isAtLeastVersion, MIN_APPEND_VERSION } from "./api-version.js";
import { bounded, sleep } from "./bounded.js";
import {
  assertKnownArguments,
  HINDSIGHT_RECALL_TOOL,
  HINDSIGHT_REFLECT_TOOL,
  HINDSIGHT_RETAIN_TOOL,
  HINDSIGHT_TOOL_SCHEMAS,
  optionalInteger,
  optionalStrings,
  optionalText,
  requiredText,
} from "./hindsight-tools.js";
import { SerialWriter } from "./serial-writer.js";

/** Heading above recalled facts in `prefetch`; the manager fences the whole block. */
export const HINDSIGHT_PREFETCH_HEADING = "## Hindsight memory (recalled, may be outdated)";

const RETAIN_CONTEXT = "conversation between the user and the assistant";

/** Tries of one background retain; a 4xx answer is final at once. */
const RETAIN_ATTEMPTS = 3;
const RETRY_BACKOFF_MS = 200;

/** Runs `work` up to `attempts` times while it fails with anything but a 4xx and `signal` is live. */
async function withRetries<T>(attempts: number, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const status = isEngramError(error) ? error.details?.status : undefined;
      const clientError = typeof status === "number" && status >= 400 && status < 500;
      if (attempt >= attempts || clientError || signal.aborted) throw error;
      await sleep(RETRY_BACKOFF_MS * attempt);
    }
  }
}

/** One buffered chat message, as retained (JSON) content carries it. */
export interface RetainedMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
  /** ISO 8601. */
  readonly timestamp: string;
}

export interface HindsightProviderProps {
  readonly config: HindsightConfig;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Injected for tests; defaults to the global `fetch`. */
  readonly fetch?: typeof fetch;
}

interface PendingPrefetch {
  readonly generation: number;
  readonly result: Promise<string>;
}

// Whether a server (by base URL) supports append, once a probe succeeded: shared by every provider of
// the process so sessions do not re-probe. Failed probes are remembered per provider only.
const appendSupportByUrl = new Map<string, boolean>();

// Distinguishes this process's legacy document ids from every other process's.
const PROCESS_TAG = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;

/**
 * Memory provider backed by a Hindsight server. Turns are buffered and retained by one serial writer
 * (async operations); before a turn, recall waits (bounded) for those retains, so the facts of the
 * last turn are visible. Every network call is bounded by the configured timeouts; recall failures
 * yield an empty prefetch, never a failed turn.
 *
 * Documents: against servers >= 0.5.0 the session id is the document id and new turns are sent with
 * `update_mode: "append"`; against older ones a per-process document id is minted per session and the
 * whole session is re-sent (replace). Either way a new or resumed session never overwrites the
 * document of a session before it.
 */
export class HindsightProvider extends MemoryProvider implements MemoryInventory {
  readonly name = "hindsight";
  override readonly capabilities: Readonly<MemoryProviderCapabilities> = Object.freeze({
    tools: true,
    prefetch: true,
    syncTurn: true,
    sessionEnd: true,
    sessionSwitch: true,
    compression: false,
    network: true,
  });

  private readonly config: HindsightConfig;
  private readonly client: HindsightClient;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly writer: SerialWriter;

  private init: ProviderInitContext | undefined;
  private sessionId = "";
  private parentSessionId: string | undefined;
  private bankId = "";
  private legacyDocumentId = "";
  private legacyCounter = 0;
  /** Every message of the current session (re-sent whole in replace mode). */
  private sessionMessages: RetainedMessage[] = [];
  /** Messages not yet handed to the writer (sent alone in append mode). */
  private unsent: RetainedMessage[] = [];
  private turnsSinceRetain = 0;
  /** Async retain operations not yet seen finished, by bank. */
  private readonly operations = new Map<string, Set<string>>();
  private appendProbe: Promise<boolean> | undefined;
  private generation = 0;
  private pendingPrefetch: PendingPrefetch | undefined;
  private closed = false;

  constructor(props: HindsightProviderProps) {
    super();
    this.config = props.config;
    this.logger = props.logger ?? noopLogger;
    this.clock = props.clock ?? systemClock;
    this.client = new HindsightClient({
      baseUrl: props.config.baseUrl,
      timeoutMs: props.config.timeouts.requestMs,
      ...(props.config.apiKey ? { apiKey: props.config.apiKey } : {}),
      ...(props.fetch ? { fetch: props.fetch } : {}),
    });
    this.writer = new SerialWriter((error) =>
      this.logger.warn({ provider: this.name, error: String(error) }, "Hindsight retain failed"),
    );
  }

  /** The bank this session reads and writes. */
  get currentBankId(): string {
    return this.bankId;
  }

  /** The document the current session's turns go to in replace (pre-0.5.0) mode. */
  get currentLegacyDocumentId(): string {
    return this.legacyDocumentId;
  }

  /**
   * Resolves `true` once every turn handed to the writer so far has been sent (acknowledged by the
   * server or failed and logged), or `false` after `timeoutMs`. Does not wait for server-side processing.
   */
  drain(timeoutMs: number): Promise<boolean> {
    return this.writer.idle(timeoutMs);
  }

  isAvailable(): boolean {
    return this.config.mode === "external" || Boolean(this.config.apiKey);
  }

  initialize(ctx: ProviderInitContext): void {
    this.init = ctx;
    this.enterSession(ctx.sessionId, ctx.parentSessionId);
  }

  getToolSchemas(): ToolSchema[] {
    return HINDSIGHT_TOOL_SCHEMAS.map((schema) => structuredClone(schema));
  }

  override systemPromptBlock(): string {
    return (
      "Long-term memory (Hindsight) is active: relevant facts are recalled before each turn. " +
      `Use ${HINDSIGHT_RETAIN_TOOL} to store something worth keeping, ${HINDSIGHT_RECALL_TOOL} to search ` +
      `and ${HINDSIGHT_REFLECT_TOOL} for an answer reasoned from memory.`
    );
  }

  private enterSession(sessionId: string, parentSessionId: string | undefined): void {
    this.sessionId = sessionId;
    if (parentSessionId !== undefined) this.parentSessionId = parentSessionId || undefined;
    this.bankId = resolveBankId(this.config.bankId, {
      ...(this.init?.profile ? { profile: this.init.profile } : {}),
      platform: this.init?.platform ?? "",
      ...(this.init?.userId ? { user: this.init.userId } : {}),
      ...(this.init?.memoryScope ? { scope: this.init.memoryScope } : {}),
      session: sessionId,
    });
    this.legacyCounter++;
    this.legacyDocumentId = `${sessionId}-${PROCESS_TAG}-${this.legacyCounter}`;
    this.sessionMessages = [];
    this.unsent = [];
    this.turnsSinceRetain = 0;
  }

  override syncTurn(turn: CompletedTurn, ctx: MemoryHookContext): void {
    if (this.closed) return;
    if (ctx.sessionId && this.sessionId && ctx.sessionId !== this.sessionId) {
      // The host moved on without telling us: treat it as a non-reset switch.
      this.switchSession(ctx.sessionId, {
        parentSessionId: undefined,
        reset: false,
        rewound: false,
        reason: "implicit",
      });
    }
    const timestamp = new Date(turn.timestamp).toISOString();
    const messages: RetainedMessage[] = [];
    if (turn.user) messages.push({ role: "user", content: turn.user, timestamp });
    if (turn.assistant) messages.push({ role: "assistant", content: turn.assistant, timestamp });
    if (messages.length === 0) return;
    this.sessionMessages.push(...messages);
    this.unsent.push(...messages);
    this.turnsSinceRetain++;
    if (this.turnsSinceRetain >= this.config.retainEveryTurns) this.flush();
  }

  /** Hands the unsent turns of the current session to the writer. */
  private flush(): void {
    if (this.unsent.length === 0) return;
    const snapshot = {
      sessionId: this.sessionId,
      parentSessionId: this.parentSessionId,
      bankId: this.bankId,
      legacyDocumentId: this.legacyDocumentId,
      fresh: this.unsent,
      all: [...this.sessionMessages],
    };
    this.unsent = [];
    this.turnsSinceRetain = 0;
    this.writer.enqueue(async (signal) => {
      const append = await this.supportsAppend(signal);
      const messages = append ? snapshot.fresh : snapshot.all;
      const item: MemoryItem = {
        content: JSON.stringify(messages),
        timestamp: messages[messages.length - 1]?.timestamp ?? new Date(this.clock.now()).toISOString(),
        context: RETAIN_CONTEXT,
        metadata: this.metadata(snapshot.sessionId),
        tags: this.tags(snapshot.sessionId, snapshot.parentSessionId),
        ...(append
          ? { document_id: snapshot.sessionId, update_mode: "append" as const }
          : { document_id: snapshot.legacyDocumentId }),
      };
      try {
        // Our own operation id makes every resubmission of this retain harmless.
        const body = { items: [item], async: true, operation_id: randomUUID() };
        const response = await withRetries(RETAIN_ATTEMPTS, signal, () =>
          this.client.retain(snapshot.bankId, body, { signal }),
        );
        if (response.operation_id) this.trackOperation(snapshot.bankId, response.operation_id);
      } catch (error) {
        // Append sends each turn once: give the turns back so the next retain carries them.
        if (append && snapshot.sessionId === this.sessionId && !this.closed)
          this.unsent.unshift(...snapshot.fresh);
        throw error;
      }
    });
  }

  private trackOperation(bankId: string, operationId: string): void {
    let set = this.operations.get(bankId);
    if (!set) {
      set = new Set();
      this.operations.set(bankId, set);
    }
    set.add(operationId);
  }

  private metadata(sessionId: string): Record<string, string> {
    const extra = this.init?.extra ?? {};
    const pick = (...keys: string[]) => {
      for (const key of keys) {
        const value = extra[key];
        if (typeof value === "string" && value) return value;
      }
      return undefined;
    };
    const chat = pick("chatId", "chat_id");
    const thread = pick("threadId", "thread_id");
    return {
      session_id: sessionId,
      platform: this.init?.platform ?? "",
      ...(this.init?.userId ? { user: this.init.userId } : {}),
      ...(chat ? { chat } : {}),
      ...(thread ? { thread } : {}),
    };
  }

  private tags(sessionId: string, parentSessionId: string | undefined): string[] {
    return [
      ...this.config.retainTags,
      `session:${sessionId}`,
      ...(parentSessionId ? [`parent:${parentSessionId}`] : []),
    ];
  }

  /** Probes `GET /version` once; any failure means "older server" (replace mode), the safe choice. */
  private supportsAppend(signal?: AbortSignal): Promise<boolean> {
    const known = appendSupportByUrl.get(this.config.baseUrl);
    if (known !== undefined) return Promise.resolve(known);
    this.appendProbe ??= this.client
      .version(signal ? { signal } : {})
      .then((response) => {
        const supported = isAtLeastVersion(response.api_version, MIN_APPEND_VERSION);
        appendSupportByUrl.set(this.config.baseUrl, supported);
        if (!supported) {
          this.logger.warn(
            { provider: this.name, version: response.api_version },
            "Hindsight is older than 0.5.0: retaining whole sessions under per-process document ids",
          );
        }
        return supported;
      })
      .catch((error: unknown) => {
        this.logger.warn({ provider: this.name, error: String(error) }, "Hindsight /version probe failed");
        return false;
      });
    return this.appendProbe;
  }

  /** Waits until the writer is idle and the tracked retain operations finished, or `deadline` passes. */
  private async settleRetains(deadline: number): Promise<void> {
    await this.writer.idle(Math.max(0, deadline - this.clock.now()));
    const set = this.operations.get(this.bankId);
    while (set && set.size > 0 && this.clock.now() < deadline && !this.closed) {
      for (const operationId of [...set]) {
        const remaining = deadline - this.clock.now();
        if (remaining <= 0) return;
        try {
          const status = await this.client.operationStatus(this.bankId, operationId, {
            timeoutMs: Math.min(this.config.timeouts.requestMs, remaining),
          });
          if (FINISHED_OPERATION_STATUSES.has(status.status)) set.delete(operationId);
        } catch (error) {
          this.logger.debug({ provider: this.name, error: String(error) }, "Hindsight operation poll failed");
          return;
        }
      }
      if (set.size > 0)
        await sleep(Math.min(this.config.timeouts.pollIntervalMs, Math.max(0, deadline - this.clock.now())));
    }
  }

  private async recallText(query: string, deadline: number): Promise<string> {
    const remaining = deadline - this.clock.now();
    if (remaining <= 0) return "";
    const response = await this.client.recall(
      this.bankId,
      {
        query,
        types: [...this.config.recallTypes],
        budget: this.config.budget,
        max_tokens: this.config.recallMaxTokens,
      },
      { timeoutMs: Math.min(this.config.timeouts.requestMs, remaining) },
    );
    return formatRecall(response.results);
  }

  private startPrefetch(query: string): PendingPrefetch {
    const generation = this.generation;
    const timeouts = this.config.timeouts;
    const deadline = this.clock.now() + timeouts.retainWaitMs + timeouts.requestMs;
    const result = (async () => {
      await this.settleRetains(this.clock.now() + timeouts.retainWaitMs);
      return this.recallText(query, deadline);
    })().catch((error: unknown) => {
      this.logger.warn({ provider: this.name, error: String(error) }, "Hindsight recall failed");
      return "";
    });
    return { generation, result };
  }

  override queuePrefetch(query: string, _ctx: MemoryHookContext): void {
    if (this.closed || !query.trim()) return;
    this.pendingPrefetch = this.startPrefetch(query);
  }

  override async prefetch(query: string, _ctx: MemoryHookContext): Promise<string> {
    if (this.closed) return "";
    let pending = this.pendingPrefetch;
    this.pendingPrefetch = undefined;
    if (!pending || pending.generation !== this.generation) {
      if (!query.trim()) return "";
      pending = this.startPrefetch(query);
    }
    const limit = this.config.timeouts.retainWaitMs + this.config.timeouts.requestMs;
    const text = await bounded(pending.result, limit, "");
    // A session switch while we waited makes the result stale.
    return pending.generation === this.generation ? text : "";
  }

  override onSessionEnd(): void {
    if (!this.closed) this.flush();
  }

  override onSessionSwitch(newSessionId: string, options: SessionSwitchOptions): void {
    if (this.closed || !newSessionId) return;
    this.switchSession(newSessionId, options);
  }

  private switchSession(newSessionId: string, options: SessionSwitchOptions): void {
    // Turns of the old session go out under the old session's document before anything changes.
    this.flush();
    this.generation++;
    this.pendingPrefetch = undefined;
    this.enterSession(newSessionId, options.parentSessionId);
  }

  override async handleToolCall(name: string, args: JsonObject): Promise<JsonValue> {
    assertKnownArguments(name, args);
    switch (name) {
      case HINDSIGHT_RETAIN_TOOL: {
        const content = requiredText(args, "content");
        const context = optionalText(args, "context");
        const tags = optionalStrings(args, "tags") ?? [];
        // A deliberate memory, not part of the conversation's document: no document id.
        const response = await this.client.retain(this.bankId, {
          items: [
            {
              content,
              timestamp: new Date(this.clock.now()).toISOString(),
              ...(context ? { context } : {}),
              metadata: this.metadata(this.sessionId),
              tags: [...this.tags(this.sessionId, this.parentSessionId), ...tags],
            },
          ],
          async: false,
        });
        return { stored: response.success, bank_id: response.bank_id, items_count: response.items_count };
      }
      case HINDSIGHT_RECALL_TOOL: {
        const query = requiredText(args, "query");
        const maxTokens = optionalInteger(args, "max_tokens", 1, 100_000);
        const types = optionalStrings(args, "types", ["world", "experience", "observation"]);
        const response = await this.client.recall(this.bankId, {
          query,
          budget: this.config.budget,
          max_tokens: maxTokens ?? this.config.recallMaxTokens,
          ...(types ? { types } : {}),
        });
        return {
          count: response.results.length,
          results: response.results.map((result) => ({
            id: result.id,
            text: result.text,
            type: result.type ?? null,
            mentioned_at: result.mentioned_at ?? null,
          })),
        };
      }
      case HINDSIGHT_REFLECT_TOOL: {
        const query = requiredText(args, "query");
        const budget = optionalText(args, "budget");
        if (budget !== undefined && budget !== "low" && budget !== "mid" && budget !== "high") {
          throw new InvalidArgumentError("budget", 'must be "low", "mid" or "high"');
        }
        const response = await this.client.reflect(this.bankId, {
          query,
          budget: (budget as Budget | undefined) ?? "low",
          include: { facts: {} },
        });
        return {
          text: response.text,
          facts: (response.based_on?.memories ?? []).map((fact) => ({
            id: fact.id ?? null,
            text: fact.text,
            type: fact.type ?? null,
          })),
        };
      }
      default:
        throw new ToolNotHandledError(this.name, name);
    }
  }

  /**
   * The facts of the current session's bank (never another scope's), newest first, or those whose text
   * matches `query`: the raw facts (`world` and `experience`), not the observations Hindsight derives
   * from them (those go with their facts and would list each fact twice). Reads only: recall is not
   * touched.
   */
  async listMemories(options: ListMemoriesOptions = {}): Promise<RememberedFact[]> {
    const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? DEFAULT_LIST_LIMIT)), MAX_LIST_LIMIT);
    const query = options.query?.trim();
    // `memories/list` filters by one type at a time.
    const pages = await Promise.all(
      LISTED_FACT_TYPES.map((type) =>
        this.client.listMemories(this.bankId, { type, ...(query ? { q: query } : {}), limit }),
      ),
    );
    return pages
      .flatMap((page) => page.items.map(toRememberedFact))
      .sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0))
      .slice(0, limit);
  }

  /**
   * Removes the fact for good. Hindsight (0.9) deletes by document, not by memory unit: this deletes
   * the document the fact was extracted from, so every fact of that retained conversation (or of that
   * deliberate retain) goes with it, observations derived from them included. `false` for an id that is
   * not a unit of the current bank, or a unit without a document.
   */
  async deleteMemory(id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    let unit: MemoryUnit;
    try {
      unit = await this.client.getMemory(this.bankId, id);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    if (!unit.document_id) return false;
    try {
      await this.client.deleteDocument(this.bankId, unit.document_id);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    return true;
  }

  /**
   * Corrects a fact's text (`PATCH …/memories/{id}`; Hindsight re-derives what it concluded from it)
   * and reads it back; `undefined` for an id that is not a unit of the current bank.
   */
  async updateMemory(id: string, content: string): Promise<RememberedFact | undefined> {
    if (!UUID.test(id)) return undefined;
    try {
      await this.client.updateMemory(this.bankId, id, { text: content });
      return toRememberedFact(await this.client.getMemory(this.bankId, id));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  override async shutdown(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.pendingPrefetch = undefined;
    const drained = await this.writer.idle(this.config.timeouts.shutdownMs);
    if (!drained) {
      this.logger.warn(
        { provider: this.name, queued: this.writer.size },
        "Hindsight writer not drained by shutdown deadline",
      );
      this.writer.abort();
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_LIST_LIMIT = 100;
const LISTED_FACT_TYPES = ["world", "experience"] as const;
/** Hindsight's `memories/list` caps `limit` at 1000; hosts ask for at most 500. */
const MAX_LIST_LIMIT = 500;

function isNotFound(error: unknown): boolean {
  return isEngramError(error) && error.details?.status === 404;
}

function epochMs(value: string | null | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** A memory unit as a person browsing their memory sees it; the session comes from its `session:` tag. */
export function toRememberedFact(unit: MemoryUnit): RememberedFact {
  const sessionTag = unit.tags?.find((tag) => tag.startsWith("session:"));
  return {
    id: unit.id,
    content: unit.text,
    category: unit.fact_type ?? null,
    sourceSessionId: sessionTag ? sessionTag.slice("session:".length) : null,
    createdAt: epochMs(unit.mentioned_at ?? unit.date),
  };
}

/** Recall results as the prefetch block: a heading and one bullet per fact, with its date when known. */
export function formatRecall(results: readonly RecallResult[]): string {
  if (results.length === 0) return "";
  const lines = results.map((result) => {
    const date = result.occurred_start ?? result.mentioned_at;
    return `- ${result.text.replace(/\s+/g, " ").trim()}${date ? ` (${date.slice(0, 10)})` : ""}`;
  });
  return `${HINDSIGHT_PREFETCH_HEADING}\n${lines.join("\n")}`;
}
