import {
  type ChatMessage,
  type CompletedTurn,
  type JsonObject,
  type JsonValue,
  type Logger,
  type MemoryHookContext,
  MemoryProvider,
  type MemoryProviderCapabilities,
  type MemoryWriteAction,
  noopLogger,
  type ProviderInitContext,
  type SessionSwitchOptions,
  ToolNotHandledError,
  type ToolSchema,
} from "@engram/core";
import { OpenVikingClient } from "../client/openviking-client.js";
import { isOpenVikingError } from "../client/openviking-error.js";
import { InMemoryPendingCommitJournal, type PendingCommitJournal } from "../journal/index.js";
import { formatRecallLine, matchedContexts, type RecallProps, rankRecall } from "./recall-ranking.js";
import {
  parseBrowseArgs,
  parseForgetArgs,
  parseReadArgs,
  parseRememberArgs,
  parseSearchArgs,
  VIKING_TOOL_SCHEMAS,
} from "./viking-tools.js";

export interface OpenVikingMemoryProviderProps {
  /** OpenViking server URL, e.g. `http://127.0.0.1:1933`. */
  readonly baseUrl: string;
  readonly apiKey?: string;
  /** Per-request timeout in ms (default 10 000): every hook is bounded by it (times the attempts). */
  readonly timeoutMs?: number;
  /** Extra attempts for safe requests (default 2). */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  readonly recall?: Partial<RecallProps>;
  readonly logger?: Logger;
  /**
   * Durable record of sessions synced but not yet committed (`PostgresPendingCommitJournal`), shared by
   * the providers of one process. With it, sessions left uncommitted by a process that died are committed
   * once by the next process (in the background at `initialize`, or explicitly through
   * {@link OpenVikingMemoryProvider.commitLeftoverSessions}). Default: in memory (no recovery).
   */
  readonly journal?: PendingCommitJournal;
  /** Injected for tests. */
  readonly fetch?: typeof fetch;
}

/** How turns are written: parts batches, plain-text batches, or one request per message (oldest servers). */
export type SyncMode = "parts" | "text" | "single";

interface WireMessage {
  readonly role: "user" | "assistant";
  readonly text: string;
  readonly parts: readonly JsonObject[];
}

const MIN_QUERY_CHARS = 3;
/** Journals whose leftovers a provider of this process has already started committing. */
const recoveredJournals = new WeakSet<PendingCommitJournal>();
const BATCH_LIMIT = 100;

function parseArguments(raw: string): JsonValue {
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    // Models sometimes emit invalid JSON; the transcript keeps what was said.
    return raw;
  }
}

/** A completed turn as OpenViking messages: the user text, then the reply with its tool calls as tool parts. */
export function turnToWireMessages(turn: CompletedTurn): WireMessage[] {
  const messages: WireMessage[] = [];
  if (turn.user.trim())
    messages.push({ role: "user", text: turn.user, parts: [{ type: "text", text: turn.user }] });
  const tools = turn.toolCalls ?? [];
  const toolParts: JsonObject[] = tools.map((call) => ({
    type: "tool",
    tool_id: call.id,
    tool_name: call.name,
    tool_input: parseArguments(call.arguments),
    tool_status: "completed",
  }));
  const toolText = tools.map((call) => `[tool ${call.name}] ${call.arguments}`).join("\n");
  if (turn.assistant.trim() || tools.length > 0) {
    messages.push({
      role: "assistant",
      text: [toolText, turn.assistant].filter((s) => s.trim()).join("\n"),
      parts: [...toolParts, ...(turn.assistant.trim() ? [{ type: "text", text: turn.assistant }] : [])],
    });
  }
  return messages;
}

/**
 * Memory provider backed by an OpenViking server. Turns are mirrored into the server's session
 * (`messages/batch`), the session is committed at the extraction boundary (`onSessionEnd`, or in the
 * background on a session switch) so the server extracts memories, and `prefetch` recalls them.
 *
 * Guarantees: writes go out one at a time in turn order; a session id is committed only when turns were
 * written to it since its last commit, so ending a session twice commits once; every network call is
 * bounded by `timeoutMs` and failures surface as `OpenVikingError`s with Engram codes.
 */
export class OpenVikingMemoryProvider extends MemoryProvider {
  readonly name = "openviking";
  override readonly capabilities: Readonly<MemoryProviderCapabilities> = Object.freeze({
    tools: true,
    prefetch: true,
    syncTurn: true,
    sessionEnd: true,
    sessionSwitch: true,
    compression: false,
    network: true,
  });

  readonly #props: OpenVikingMemoryProviderProps;
  readonly #client: OpenVikingClient | undefined;
  readonly #recall: RecallProps;
  readonly #log: Logger;
  #sessionId = "";
  #mode: SyncMode = "parts";
  readonly #journal: PendingCommitJournal;
  /** Session ids with messages written since their last commit -> their journal marker's sequence. */
  readonly #pending = new Map<string, number>();
  /** Tail of the write queue: writes and commits run one at a time, in call order. */
  #queue: Promise<void> = Promise.resolve();
  readonly #background = new Set<Promise<unknown>>();
  /** The recall `queuePrefetch` started, consumed by the next `prefetch` of the same query. */
  #queued: { readonly key: string; readonly recall: Promise<string> } | undefined;

  constructor(props: OpenVikingMemoryProviderProps) {
    super();
    this.#props = props;
    this.#log = props.logger ?? noopLogger;
    this.#journal = props.journal ?? new InMemoryPendingCommitJournal();
    this.#recall = {
      scoreThreshold: props.recall?.scoreThreshold ?? 0.15,
      limit: props.recall?.limit ?? 6,
      maxChars: props.recall?.maxChars ?? 4000,
    };
    try {
      this.#client = new OpenVikingClient({
        baseUrl: props.baseUrl,
        ...(props.apiKey === undefined ? {} : { apiKey: props.apiKey }),
        ...(props.timeoutMs === undefined ? {} : { timeoutMs: props.timeoutMs }),
        ...(props.retries === undefined ? {} : { retries: props.retries }),
        ...(props.retryDelayMs === undefined ? {} : { retryDelayMs: props.retryDelayMs }),
        ...(props.fetch === undefined ? {} : { fetch: props.fetch }),
      });
    } catch {
      // An unusable URL makes the provider unavailable rather than breaking session composition.
      this.#client = undefined;
    }
  }

  /** The session id writes currently go to. */
  get sessionId(): string {
    return this.#sessionId;
  }

  /** How turns are currently written (falls back after a server refuses a richer form). */
  get syncMode(): SyncMode {
    return this.#mode;
  }

  /** The underlying HTTP client (for health probes and direct calls). */
  get client(): OpenVikingClient {
    if (!this.#client)
      throw new Error(`OpenViking base URL ${JSON.stringify(this.#props.baseUrl)} is not usable`);
    return this.#client;
  }

  isAvailable(): boolean {
    return this.#client !== undefined;
  }

  initialize(ctx: ProviderInitContext): void {
    this.#sessionId = ctx.sessionId;
    if (this.#props.journal && this.#client && !recoveredJournals.has(this.#props.journal)) {
      recoveredJournals.add(this.#props.journal);
      this.#track(
        this.commitLeftoverSessions().catch((error: unknown) => {
          this.#log.warn({ provider: this.name, err: error }, "committing leftover sessions failed");
        }),
      );
    }
  }

  /**
   * Commits the sessions another process synced but never committed (it died, or stopped without a
   * boundary), as recorded in the journal; each is claimed by one process and committed once. A session
   * the server no longer knows counts as done. Returns the sessions committed.
   */
  async commitLeftoverSessions(): Promise<string[]> {
    const committed: string[] = [];
    for (const marker of await this.#journal.claimLeftovers()) {
      try {
        await this.client.post(`/api/v1/sessions/${encodeURIComponent(marker.sessionId)}/commit`, {});
      } catch (error) {
        if (!(isOpenVikingError(error) && error.remote.remoteCode === "NOT_FOUND")) throw error;
      }
      await this.#journal.markCommitted(marker.sessionId, marker.sequence);
      committed.push(marker.sessionId);
    }
    return committed;
  }

  override systemPromptBlock(): string {
    return [
      "# OpenViking memory",
      "Long-term memories from earlier sessions may be recalled for you automatically.",
      "Use viking_search to look for more, viking_read to open a viking:// URI (abstract, overview or full),",
      "viking_browse to list a directory, viking_remember to keep a fact and viking_forget to delete one memory file.",
    ].join("\n");
  }

  getToolSchemas(): ToolSchema[] {
    return VIKING_TOOL_SCHEMAS.map((schema) => structuredClone(schema));
  }

  override syncTurn(turn: CompletedTurn, ctx: MemoryHookContext): Promise<void> {
    const sessionId = ctx.sessionId || turn.sessionId || this.#sessionId;
    const messages = turnToWireMessages(turn);
    if (!sessionId || messages.length === 0) return Promise.resolve();
    return this.#enqueue(() => this.#write(sessionId, messages));
  }

  override async onSessionEnd(_messages: readonly ChatMessage[]): Promise<void> {
    const sessionId = this.#sessionId;
    await this.#enqueue(() => this.#commitIfPending(sessionId));
  }

  /**
   * Mirrors a write of the host's builtin memory tool into the session, so the server extracts it at the
   * next commit like anything the user said. Removals are not mirrored: the builtin target names no
   * OpenViking memory file to delete.
   */
  override async onMemoryWrite(
    action: MemoryWriteAction,
    target: string,
    content: string,
    _metadata: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const sessionId = this.#sessionId;
    if (!sessionId || action === "remove" || !content.trim()) return;
    const text = `[memory ${action} ${target}] ${content}`;
    await this.#enqueue(() =>
      this.#write(sessionId, [{ role: "user", text, parts: [{ type: "text", text }] }]),
    );
  }

  /**
   * Compression is about to summarise `messages` away. Their turns were mirrored as they completed; wait
   * until every queued write has reached the server, so the rotation that follows never overtakes them.
   * Nothing needs keeping in the summary: the server holds the full session.
   */
  override async onPreCompress(_messages: readonly ChatMessage[]): Promise<string> {
    await this.#queue;
    return "";
  }

  override onSessionSwitch(newSessionId: string, _options: SessionSwitchOptions): void {
    const old = this.#sessionId;
    this.#sessionId = newSessionId;
    if (!old || old === newSessionId || !this.#pending.has(old)) return;
    // The old session's commit runs in the background, after the writes queued before the switch.
    const commit = this.#enqueue(() => this.#commitIfPending(old)).catch((error: unknown) => {
      this.#log.warn(
        { provider: this.name, sessionId: old, err: error },
        "background commit of the previous session failed",
      );
    });
    this.#track(commit);
  }

  #track(work: Promise<unknown>): void {
    this.#background.add(work);
    void work.finally(() => this.#background.delete(work));
  }

  override async prefetch(query: string, ctx: MemoryHookContext): Promise<string> {
    if (query.trim().length < MIN_QUERY_CHARS) return "";
    const sessionId = ctx.sessionId || this.#sessionId;
    const key = `${sessionId}\u0000${query}`;
    const queued = this.#queued?.key === key ? this.#queued.recall : undefined;
    this.#queued = undefined;
    return queued ?? this.#recallText(query, sessionId);
  }

  override queuePrefetch(query: string, ctx: MemoryHookContext): void {
    if (query.trim().length < MIN_QUERY_CHARS) return;
    const sessionId = ctx.sessionId || this.#sessionId;
    // One recall in flight for the next prefetch; a newer query replaces an older one.
    const recall = this.#recallText(query, sessionId);
    recall.catch(() => undefined);
    this.#queued = { key: `${sessionId}\u0000${query}`, recall };
  }

  async #recallText(query: string, sessionId: string): Promise<string> {
    const body = {
      query,
      limit: this.#recall.limit * 2,
      score_threshold: this.#recall.scoreThreshold,
      ...(sessionId ? { session_id: sessionId } : {}),
    };
    const result = await this.#search(body);
    const hits = rankRecall(matchedContexts(result), this.#recall);
    return hits.map(formatRecallLine).join("\n");
  }

  override async handleToolCall(name: string, args: JsonObject): Promise<JsonValue> {
    switch (name) {
      case "viking_search": {
        const { query, limit } = parseSearchArgs(args);
        const result = await this.#search({
          query,
          limit,
          ...(this.#sessionId ? { session_id: this.#sessionId } : {}),
        });
        const hits = matchedContexts(result, ["memories", "resources", "skills"]);
        return {
          results: hits
            .slice(0, limit)
            .map((h) => ({ uri: h.uri, category: h.category, score: h.score, abstract: h.abstract })),
        };
      }
      case "viking_read": {
        const { uri, level } = parseReadArgs(args);
        const path = level === "full" ? "/api/v1/content/read" : `/api/v1/content/${level}`;
        const content = await this.client.get<unknown>(path, { query: { uri } });
        return { uri, level, content: typeof content === "string" ? content : JSON.stringify(content) };
      }
      case "viking_browse": {
        const { uri } = parseBrowseArgs(args);
        const entries = await this.client.get<unknown>("/api/v1/fs/ls", { query: { uri } });
        const list = Array.isArray(entries) ? entries : [];
        return {
          uri,
          entries: list
            .filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null)
            .map((e) => ({
              name: String(e.name ?? ""),
              uri: String(e.uri ?? ""),
              isDir: e.isDir === true,
              ...(typeof e.abstract === "string" ? { abstract: e.abstract } : {}),
            })),
        };
      }
      case "viking_remember": {
        const { content } = parseRememberArgs(args);
        const sessionId = this.#sessionId;
        if (!sessionId) return { status: "skipped", reason: "no session" };
        const text = `Remember: ${content}`;
        await this.#enqueue(() =>
          this.#write(sessionId, [{ role: "user", text, parts: [{ type: "text", text }] }]),
        );
        return { status: "stored", session_id: sessionId, extracted: "when the session is committed" };
      }
      case "viking_forget": {
        const { uri } = parseForgetArgs(args);
        await this.client.delete("/api/v1/fs", { query: { uri } });
        return { status: "deleted", uri };
      }
      default:
        throw new ToolNotHandledError(this.name, name);
    }
  }

  override async shutdown(): Promise<void> {
    const queued = this.#queued?.recall;
    this.#queued = undefined;
    await Promise.allSettled([...this.#background, ...(queued ? [queued] : [])]);
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #search(body: Record<string, unknown>): Promise<unknown> {
    try {
      return await this.client.post("/api/v1/search/search", body, { retry: true });
    } catch (error) {
      // Servers without context-aware search: fall back to plain find (which takes no session id).
      if (!isOpenVikingError(error) || (error.remote.httpStatus !== 404 && error.remote.httpStatus !== 405))
        throw error;
      const { session_id: _ignored, ...findBody } = body;
      return this.client.post("/api/v1/search/find", findBody, { retry: true });
    }
  }

  async #write(sessionId: string, messages: readonly WireMessage[]): Promise<void> {
    // The durable marker goes first: a crash after the server took the messages must leave a marker
    // (a marker for messages that never arrived only costs a "skipped" commit).
    const sequence = await this.#journal.markSynced(sessionId);
    const markPending = () => this.#pending.set(sessionId, sequence);
    try {
      await this.#writeChunks(sessionId, messages, markPending);
    } catch (error) {
      // A write that timed out may have landed: commit the session at its end just in case (a commit
      // of an empty session is a harmless "skipped").
      if (isOpenVikingError(error) && error.remote.remoteCode === "TIMEOUT") markPending();
      throw error;
    }
  }

  async #writeChunks(
    sessionId: string,
    messages: readonly WireMessage[],
    markPending: () => void,
  ): Promise<void> {
    const path = `/api/v1/sessions/${encodeURIComponent(sessionId)}/messages`;
    for (let start = 0; start < messages.length; start += BATCH_LIMIT) {
      const chunk = messages.slice(start, start + BATCH_LIMIT);
      if (this.#mode === "parts") {
        try {
          await this.client.post(`${path}/batch`, {
            messages: chunk.map((m) => ({ role: m.role, parts: m.parts })),
          });
          markPending();
          continue;
        } catch (error) {
          if (!this.#shouldDowngrade(error)) throw error;
          this.#mode = isOpenVikingError(error) && error.remote.httpStatus === 400 ? "text" : "single";
          this.#log.info(
            { provider: this.name, mode: this.#mode },
            "server refused the richer message form; falling back",
          );
        }
      }
      if (this.#mode === "text") {
        try {
          await this.client.post(`${path}/batch`, {
            messages: chunk.map((m) => ({ role: m.role, content: m.text })),
          });
          markPending();
          continue;
        } catch (error) {
          if (
            !isOpenVikingError(error) ||
            (error.remote.httpStatus !== 404 && error.remote.httpStatus !== 405)
          )
            throw error;
          this.#mode = "single";
        }
      }
      for (const message of chunk) {
        await this.client.post(path, { role: message.role, content: message.text });
        markPending();
      }
    }
  }

  #shouldDowngrade(error: unknown): boolean {
    const status = isOpenVikingError(error) ? error.remote.httpStatus : undefined;
    return status === 400 || status === 404 || status === 405 || status === 422;
  }

  async #commitIfPending(sessionId: string): Promise<void> {
    const sequence = sessionId ? this.#pending.get(sessionId) : undefined;
    if (sequence === undefined) return;
    this.#pending.delete(sessionId);
    try {
      await this.client.post(`/api/v1/sessions/${encodeURIComponent(sessionId)}/commit`, {});
    } catch (error) {
      // Not committed: keep the session pending so a later boundary tries again.
      this.#pending.set(sessionId, sequence);
      throw error;
    }
    await this.#journal.markCommitted(sessionId, sequence);
  }
}
