import {
  type ChatMessage,
  type Clock,
  type CompletedTurn,
  ConflictError,
  type JsonObject,
  type JsonValue,
  type MemoryHookContext,
  MemoryProvider,
  type MemoryProviderCapabilities,
  type ProviderInitContext,
  type SessionSwitchOptions,
  sanitizeContext,
  systemClock,
  ToolNotHandledError,
  type ToolSchema,
} from "@engram/core";
import { InMemoryMemoryStore, type MemoryEntry } from "./in-memory-memory-store.js";
import {
  MAX_NOTE_LENGTH,
  MAX_SEARCH_LIMIT,
  MEMORY_ADD_TOOL,
  MEMORY_SEARCH_TOOL,
  MEMORY_TOOL_SCHEMAS,
  optionalInteger,
  optionalStringList,
  optionalText,
  rejectUnknownArguments,
  requireText,
} from "./memory-tools.js";

export interface InMemoryMemoryProviderProps {
  /** Where memories go; share one between providers to model a shared database. Default: a new one. */
  readonly store?: InMemoryMemoryStore;
  /** Provider name (default `in-memory`). */
  readonly name?: string;
  /** Stamps entries (default the system clock). */
  readonly clock?: Clock;
  /** Turns buffered per session before they are written (default 3); switches and ends flush early. */
  readonly flushEvery?: number;
  /** Entries `prefetch` recalls at most (default 5). */
  readonly recallLimit?: number;
}

interface BufferedTurn {
  /** The session the turn was synced under; it is written there, whatever happens later. */
  readonly sessionId: string | undefined;
  readonly text: string;
}

/**
 * The reference memory provider: mirrors turns (buffered per session, like providers that batch
 * remote writes), extracts the user's messages as facts at session end, recalls by keywords, and
 * offers `memory_search` / `memory_add`. Everything lives in an {@link InMemoryMemoryStore}.
 *
 * It shows the contract's session rules: a turn is filed under the session id its `syncTurn` context
 * names; a switch flushes buffered turns under the ids they were synced with before adopting the new
 * id, so nothing crosses sessions; hooks without a session id (`onSessionEnd`, tools) use the id of
 * the latest `initialize` or switch; repeated session ends store nothing new; shutdown flushes and is
 * idempotent.
 */
export class InMemoryMemoryProvider extends MemoryProvider {
  readonly name: string;
  override readonly capabilities: Readonly<MemoryProviderCapabilities> = Object.freeze({
    tools: true,
    prefetch: true,
    syncTurn: true,
    sessionEnd: true,
    sessionSwitch: true,
    compression: true,
    network: false,
  });
  /** The backing store (the one passed in, or the provider's own). */
  readonly store: InMemoryMemoryStore;
  readonly #clock: Clock;
  readonly #flushEvery: number;
  readonly #recallLimit: number;
  #sessionId: string | undefined;
  #parentSessionId: string | undefined;
  #buffer: BufferedTurn[] = [];
  // Recalls computed ahead by queuePrefetch, keyed by query; cleared when the session changes.
  readonly #prefetched = new Map<string, string>();
  #closed = false;

  constructor(props: InMemoryMemoryProviderProps = {}) {
    super();
    this.name = props.name ?? "in-memory";
    this.store = props.store ?? new InMemoryMemoryStore();
    this.#clock = props.clock ?? systemClock;
    this.#flushEvery = Math.max(1, props.flushEvery ?? 3);
    this.#recallLimit = props.recallLimit ?? 5;
  }

  /** The session hooks without a session id write under. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** The session the current one continues from, when known. */
  get parentSessionId(): string | undefined {
    return this.#parentSessionId;
  }

  isAvailable(): boolean {
    return true;
  }

  initialize(ctx: ProviderInitContext): void {
    this.#sessionId = ctx.sessionId;
    this.#parentSessionId = ctx.parentSessionId;
  }

  getToolSchemas(): ToolSchema[] {
    return MEMORY_TOOL_SCHEMAS.map((schema) => structuredClone(schema));
  }

  override systemPromptBlock(): string {
    return (
      "# Memory\nLong-term memory is available. Use memory_search to look things up and memory_add to " +
      "save durable notes (preferences, decisions, project details)."
    );
  }

  override prefetch(query: string, _ctx: MemoryHookContext): string {
    return this.#prefetched.get(query) ?? this.#recall(query);
  }

  override queuePrefetch(query: string, _ctx: MemoryHookContext): void {
    if (this.#closed) return;
    this.#prefetched.set(query, this.#recall(query));
  }

  override syncTurn(turn: CompletedTurn, ctx: MemoryHookContext): void {
    if (this.#closed) return;
    // The hook's own session id wins over a cached one: it is the id the host is on right now.
    const sessionId = ctx.sessionId || turn.sessionId || this.#sessionId;
    const user = sanitizeContext(turn.user).trim();
    const assistant = sanitizeContext(turn.assistant).trim();
    this.#buffer.push({ sessionId, text: `User: ${user}\nAssistant: ${assistant}` });
    if (this.#buffer.filter((t) => t.sessionId === sessionId).length >= this.#flushEvery) this.#flush();
  }

  override onSessionEnd(messages: readonly ChatMessage[]): void {
    if (this.#closed) return;
    this.#flush();
    for (const message of messages) {
      if (message.role !== "user") continue;
      const text = sanitizeContext(message.content).trim();
      if (text === "") continue;
      // unique: the same transcript ended twice stores each fact once.
      this.store.add(
        { sessionId: this.#sessionId, kind: "fact", text, createdAt: this.#clock.now() },
        { unique: true },
      );
    }
  }

  override onSessionSwitch(newSessionId: string, options: SessionSwitchOptions): void {
    // Buffered turns go out under the ids they were synced with, before the id changes.
    this.#flush();
    this.#sessionId = newSessionId;
    // A bare switch (no parent) keeps the parent already known.
    if (options.parentSessionId !== undefined) this.#parentSessionId = options.parentSessionId;
    this.#prefetched.clear();
  }

  override onPreCompress(_messages: readonly ChatMessage[]): string {
    if (this.#sessionId === undefined) return "";
    const notes = this.store.entries({ sessionId: this.#sessionId, kind: "note" });
    return notes.map((note) => `- ${note.text}`).join("\n");
  }

  override handleToolCall(name: string, args: JsonObject): JsonValue {
    if (name === MEMORY_SEARCH_TOOL) {
      rejectUnknownArguments(args, ["query", "limit", "session_id"]);
      const query = requireText(args, "query");
      const limit = optionalInteger(args, "limit", 1, MAX_SEARCH_LIMIT) ?? 5;
      const sessionId = optionalText(args, "session_id");
      const found = this.store.search(query, { limit, ...(sessionId === undefined ? {} : { sessionId }) });
      return { results: found.map(entryJson) };
    }
    if (name === MEMORY_ADD_TOOL) {
      rejectUnknownArguments(args, ["content", "tags"]);
      const content = requireText(args, "content", MAX_NOTE_LENGTH);
      const tags = optionalStringList(args, "tags") ?? [];
      if (this.#closed) throw new ConflictError(`Memory provider "${this.name}" is shut down`);
      const { entry, created } = this.store.add(
        {
          sessionId: this.#sessionId,
          kind: "note",
          text: sanitizeContext(content).trim(),
          tags,
          createdAt: this.#clock.now(),
        },
        { unique: true },
      );
      return { created, entry: entryJson(entry) };
    }
    throw new ToolNotHandledError(this.name, name);
  }

  override shutdown(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
  }

  #recall(query: string): string {
    return this.store
      .search(sanitizeContext(query), { limit: this.#recallLimit })
      .map((entry) => `- (${entry.kind}) ${entry.text.replaceAll("\n", " ")}`)
      .join("\n");
  }

  #flush(): void {
    const pending = this.#buffer;
    this.#buffer = [];
    for (const turn of pending) {
      this.store.add({
        sessionId: turn.sessionId,
        kind: "turn",
        text: turn.text,
        createdAt: this.#clock.now(),
      });
    }
  }
}

function entryJson(entry: MemoryEntry): JsonObject {
  return {
    id: entry.id,
    session_id: entry.sessionId ?? null,
    kind: entry.kind,
    text: entry.text,
    tags: [...entry.tags],
    created_at: entry.createdAt,
  };
}
