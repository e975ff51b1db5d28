import { toStorableText } from "@engram/core";
import { z } from "zod";

/** Messages one request may carry: a long conversation fits, a request that only burns CPU does not. */
export const MAX_OPENAI_MESSAGES = 2_000;
const MAX_MODEL_LENGTH = 256;
/** `user` and `X-Engram-Session` become session-key segments: the key's own rules apply on top. */
const MAX_SESSION_NAME_LENGTH = 128;

const textPart = z.object({ type: z.literal("text"), text: z.string() });

/**
 * Text as OpenAI clients send it: a string, or content parts of which only `text` is understood
 * (an image or audio part is refused, not silently dropped). `null` is allowed on assistant messages
 * that only carry tool calls.
 */
const content = z.union([
  z.string(),
  z.array(
    z.discriminatedUnion("type", [
      textPart,
      z.object({ type: z.literal("image_url") }).loose(),
      z.object({ type: z.literal("input_audio") }).loose(),
      z.object({ type: z.literal("file") }).loose(),
      z.object({ type: z.literal("refusal"), refusal: z.string() }),
    ]),
  ),
  z.null(),
]);

const message = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content, name: z.string().optional() }),
  z.object({ role: z.literal("developer"), content, name: z.string().optional() }),
  z.object({ role: z.literal("user"), content, name: z.string().optional() }),
  z.object({
    role: z.literal("assistant"),
    content: content.optional(),
    name: z.string().optional(),
    tool_calls: z.array(z.unknown()).optional(),
    refusal: z.string().nullish(),
  }),
  z.object({ role: z.literal("tool"), content, tool_call_id: z.string() }),
]);

export type OpenAIMessage = z.output<typeof message>;

/**
 * The body of `POST /v1/chat/completions`. Sampling options (`temperature`, `max_tokens`, ...) and
 * `tools` are accepted and ignored: the gateway's agent runs with its own configuration. Unknown keys
 * are ignored, as OpenAI-compatible servers do; `n` other than 1 is refused (one session, one reply).
 */
export const chatCompletionBody = z.object({
  model: z.string().min(1).max(MAX_MODEL_LENGTH),
  messages: z.array(message).min(1).max(MAX_OPENAI_MESSAGES),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullish(),
  user: z.string().min(1).max(MAX_SESSION_NAME_LENGTH).optional(),
  n: z.literal(1).nullish(),
});

export type ChatCompletionBody = z.output<typeof chatCompletionBody>;

/** The header that names the session (wins over `user`). */
export const SESSION_HEADER = "x-engram-session";

export const sessionHeader = z.string().min(1).max(MAX_SESSION_NAME_LENGTH).optional();

/** A message as the reconciliation compares it: the text the transcript would store. */
export interface ConversationTurn {
  readonly role: "user" | "assistant";
  readonly content: string;
}

/**
 * The user and assistant text of `messages` in order, as it would be stored. System and developer
 * messages (the gateway has its own prompt), tool results and assistant messages with only tool calls
 * carry no turn of the conversation and are skipped.
 *
 * @returns `undefined` for a message with content the gateway cannot take (an image, audio, a file),
 *   with its index.
 */
export function conversationOf(
  messages: readonly OpenAIMessage[],
): { readonly turns: ConversationTurn[] } | { readonly unsupported: number } {
  const turns: ConversationTurn[] = [];
  for (const [index, m] of messages.entries()) {
    if (m.role !== "user" && m.role !== "assistant") continue;
    const text = textOf(m.content);
    if (text === undefined) return { unsupported: index };
    if (m.role === "assistant" && text === "") continue;
    turns.push({ role: m.role, content: toStorableText(text) });
  }
  return { turns };
}

function textOf(value: OpenAIMessage["content"] | undefined): string | undefined {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  let text = "";
  for (const part of value) {
    if (part.type === "text") text += part.text;
    else if (part.type === "refusal") text += part.refusal;
    else return undefined;
  }
  return text;
}

/**
 * Which of the client's user turns are new. A client of a stateless API resends the whole
 * conversation each time; the stored transcript already ends with what it said and was answered
 * before. The longest prefix of `incoming` that the transcript ends with is known; the new turns are
 * the user messages after it that also follow the client's last assistant message (an assistant
 * message the transcript does not have is the client's own history, never appended as ours).
 *
 * @returns the new user turns (several in a row are one turn to the agent), empty when `incoming`
 *   does not end with a user message.
 */
export function newUserTurns(
  incoming: readonly ConversationTurn[],
  stored: readonly ConversationTurn[],
): ConversationTurn[] {
  if (incoming.at(-1)?.role !== "user") return [];
  let known = 0;
  // The whole of `incoming` is never "known": its last user turn is what the request asks about (an
  // exact repeat is recognised by its message id, see the routes).
  for (let m = Math.min(incoming.length - 1, stored.length); m > 0; m--) {
    if (sameTurns(incoming, 0, stored, stored.length - m, m)) {
      known = m;
      break;
    }
  }
  let lastAssistant = -1;
  for (let i = incoming.length - 1; i >= 0; i--) {
    if (incoming[i]?.role === "assistant") {
      lastAssistant = i;
      break;
    }
  }
  return incoming.slice(Math.max(known, lastAssistant + 1));
}

function sameTurns(
  a: readonly ConversationTurn[],
  aFrom: number,
  b: readonly ConversationTurn[],
  bFrom: number,
  count: number,
): boolean {
  for (let i = 0; i < count; i++) {
    const x = a[aFrom + i]!;
    const y = b[bFrom + i]!;
    if (x.role !== y.role || x.content !== y.content) return false;
  }
  return true;
}
