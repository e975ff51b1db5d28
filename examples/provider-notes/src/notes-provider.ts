import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import {
  type ChatMessage,
  type Clock,
  InvalidArgumentError,
  type JsonObject,
  type JsonValue,
  type MemoryHookContext,
  MemoryProvider,
  type MemoryProviderCapabilities,
  type ProviderInitContext,
  type SessionSwitchOptions,
  sanitizeContext,
  systemClock,
  type ToolSchema,
} from "@engram/core";
import { z } from "zod";
import { NoteFile, rankNotes } from "./note-file.js";
import type { NotesConfig } from "./notes-config.js";

export const NOTES_SEARCH_TOOL = "notes_search";

const MAX_NOTE_CHARS = 1_000;
const EXPLICIT = /^(?:please\s+)?(?:remember|note)(?:\s+that)?\s*[:,]?\s+/i;
const FIRST_PERSON = /\b(?:i|i'm|i've|i'd|my|me|mine|we|our)\b/i;

/**
 * The note a user message states, by a deliberately simple rule: "remember (that) X" gives X; any
 * other first-person statement of three words or more is kept whole. Questions, commands and
 * over-long texts are not notes. Recalled `<memory-context>` blocks are removed first, so recall
 * is never stored as if the user had said it.
 */
export function noteFrom(message: string): string | undefined {
  const text = sanitizeContext(message).replace(/\s+/g, " ").trim();
  if (text === "" || text.startsWith("/") || text.length > MAX_NOTE_CHARS) return undefined;
  const explicit = EXPLICIT.exec(text);
  if (explicit) return text.slice(explicit[0].length) || undefined;
  if (text.endsWith("?") || text.split(" ").length < 3 || !FIRST_PERSON.test(text)) return undefined;
  return text;
}

const searchArgs = z.strictObject({
  query: z.string().trim().min(1),
  limit: z.number().int().min(1).max(20).optional(),
});

const SEARCH_SCHEMA: ToolSchema = {
  name: NOTES_SEARCH_TOOL,
  description: "Search the notes the user asked you to remember in earlier conversations, by keywords.",
  parameters: {
    type: "object",
    properties: {
      query: { type: "string", minLength: 1, description: "Keywords to look for." },
      limit: { type: "integer", minimum: 1, maximum: 20, description: "Most notes to return (default 5)." },
    },
    required: ["query"],
    additionalProperties: false,
  },
};

export interface NotesProviderProps {
  readonly config: NotesConfig;
  /** Stamps notes (default: the system clock). */
  readonly clock?: Clock;
}

/**
 * Keeps what a user states in a JSON-lines file per platform and user, recalls it before each turn
 * by keyword overlap, and offers `notes_search`. Notes are taken once, at the end of a session (the
 * commit boundary), from its final transcript, so turns need no mirroring (`syncTurn` stays a no-op).
 */
export class NotesProvider extends MemoryProvider {
  readonly name = "notes";
  override readonly capabilities: Readonly<MemoryProviderCapabilities> = Object.freeze({
    tools: true,
    prefetch: true,
    syncTurn: false,
    sessionEnd: true,
    sessionSwitch: true,
    compression: false,
    network: false,
  });
  readonly #config: NotesConfig;
  readonly #clock: Clock;
  #file: NoteFile | undefined;
  #sessionId: string | undefined;
  #writes = false;

  constructor(props: NotesProviderProps) {
    super();
    this.#config = props.config;
    this.#clock = props.clock ?? systemClock;
  }

  /** The folder, or the nearest folder above it that exists, is a writable directory. No network. */
  isAvailable(): boolean {
    let dir = this.#config.dir;
    while (!existsSync(dir)) {
      if (dirname(dir) === dir) return false;
      dir = dirname(dir);
    }
    try {
      accessSync(dir, constants.W_OK);
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  }

  initialize(ctx: ProviderInitContext): void {
    this.#sessionId = ctx.sessionId;
    // Subagents, cron jobs and flush agents see a slice of a conversation: they recall, never write.
    this.#writes = ctx.agentContext === "primary";
    // Core hands a provider the user, not the memory scope the host computed for the session, so a
    // shared room's session files notes under whoever spoke (see README).
    this.#file = new NoteFile(this.#config.dir, `${ctx.platform}:user:${ctx.userId ?? "unknown"}`);
  }

  getToolSchemas(): ToolSchema[] {
    return [structuredClone(SEARCH_SCHEMA)];
  }

  override systemPromptBlock(): string {
    return `Notes the user asked you to remember are recalled for you; call ${NOTES_SEARCH_TOOL} to find others.`;
  }

  override async prefetch(query: string, _ctx: MemoryHookContext): Promise<string> {
    if (!this.#file) return "";
    const notes = rankNotes(await this.#file.read(), sanitizeContext(query), this.#config.recallLimit);
    return notes.map((note) => `- ${note.text}`).join("\n");
  }

  override onSessionSwitch(newSessionId: string, _options: SessionSwitchOptions): void {
    // Nothing is buffered per session; notes taken from now on belong to the new id.
    this.#sessionId = newSessionId;
  }

  override async onSessionEnd(messages: readonly ChatMessage[]): Promise<void> {
    const file = this.#file;
    if (!file || !this.#writes) return;
    // Read before awaiting: a switch arriving meanwhile must not relabel this session's notes.
    const sessionId = this.#sessionId;
    const stated = messages.filter((m) => m.role === "user").map((m) => noteFrom(m.content));
    const known = new Set((await file.read()).map((note) => note.text));
    const fresh = [...new Set(stated)].filter((text): text is string => !!text && !known.has(text));
    // Ending the same session twice, or stating a known fact again, writes nothing new.
    await file.append(fresh.map((text) => ({ text, sessionId, at: this.#clock.now() })));
  }

  override async handleToolCall(name: string, args: JsonObject): Promise<JsonValue> {
    if (name !== NOTES_SEARCH_TOOL) return super.handleToolCall(name, args);
    const parsed = searchArgs.safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidArgumentError(issue?.path.join(".") || "arguments", issue?.message ?? "invalid");
    }
    const all = this.#file ? await this.#file.read() : [];
    const notes = rankNotes(all, parsed.data.query, parsed.data.limit ?? 5);
    return { notes: notes.map((n) => ({ text: n.text, session_id: n.sessionId ?? null, at: n.at })) };
  }

  override shutdown(): void {
    // Every write is awaited by its hook, so nothing is pending; later hooks only read.
    this.#writes = false;
  }
}
