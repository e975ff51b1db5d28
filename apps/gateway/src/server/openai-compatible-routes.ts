import { createHash, randomUUID } from "node:crypto";
import type { AgentEvent, TokenUsage } from "@engram/agent";
import {
  EngramError,
  InvalidArgumentError,
  isEngramError,
  parseSessionSource,
  type SessionSource,
} from "@engram/core";
import type { InboundMessage, TurnReply } from "@engram/sessions";
import { parseInput } from "@engram/sessions/http";
import type { FastifyInstance, FastifyReply } from "fastify";
import {
  type ChatCompletionBody,
  type ConversationTurn,
  chatCompletionBody,
  conversationOf,
  newUserTurns,
  SESSION_HEADER,
  sessionHeader,
} from "./openai-compatible-request.js";

/** The platform name of sessions opened through the OpenAI-compatible API (`agent:main:openai:dm:<name>`). */
export const OPENAI_PLATFORM = "openai";
/** The model id `GET /v1/models` lists by default: the gateway's agent, whatever model it runs on. */
export const DEFAULT_OPENAI_MODEL_ID = "engram";

/** What the routes read of the session a request names before its turn runs. */
export interface CurrentTranscript {
  /** The stored user and assistant messages of the session the source routes to now (none: empty). */
  readonly messages: readonly { readonly role: string; readonly content: string | null }[];
}

export interface OpenAICompatibleProps {
  /** Runs one turn exactly as `POST /v1/messages` does (the gateway's turn handler). */
  readonly handler: { handle(message: InboundMessage): Promise<TurnReply> };
  /** The transcript of the session `source` routes to now, for reconciling the client's history. */
  readonly currentTranscript: (source: SessionSource) => Promise<CurrentTranscript>;
  /** Model ids `GET /v1/models` lists and `model` must name (default `["engram"]`). */
  readonly models?: readonly string[];
  /** How often a streamed answer that is still thinking sends an SSE comment (default 10 s). */
  readonly keepAliveMs?: number;
}

/**
 * `POST /chat/completions` and `GET /models` (and `GET /models/:id`) of the OpenAI API, registered
 * into the gateway's authenticated `/v1` scope: any OpenAI client gets an Engram session with memory.
 *
 * - The session: the `X-Engram-Session` header names it, else the `user` field; the person (memory
 *   scope) is `user`, else the session name. One of them is required.
 * - The client's message list is reconciled with the stored transcript: only its new user turns
 *   (those after what the transcript already ends with and after its last assistant message) are run,
 *   as one turn; resent history is never appended again. An exact repeat of a request is answered
 *   with the reply already given (its conversation's hash is the turn's platform message id).
 * - `stream: true` answers in Server-Sent Events in the `chat.completion.chunk` shape, ending with
 *   `data: [DONE]`: the model's text deltas are sent as the model produces them (comments keep the
 *   connection alive while it thinks). A repeat answered with the reply already given sends it whole
 *   at the end. Text the model says before a tool call is streamed too, as OpenAI's own API does,
 *   while the stored reply is the turn's final text.
 * - `usage`: in every non-streamed answer, and as the last chunk (empty `choices`) of a stream that
 *   asked for it with `stream_options.include_usage`. The tokens the model reported for the turn,
 *   summed over its model calls (so prompt tokens include the system prompt, recalled memory and tool
 *   rounds); when it reported none (a repeat answered from the transcript, a model endpoint that
 *   sends no usage) an estimate of one token per 4 characters of the new user text and the reply.
 * - Errors keep the gateway's `{ error: { code, message } }` shape and its statuses (OpenAI clients
 *   read `error.message` and `error.code` from it).
 */
export function registerOpenAICompatibleRoutes(scope: FastifyInstance, props: OpenAICompatibleProps): void {
  const models = props.models ?? [DEFAULT_OPENAI_MODEL_ID];
  const keepAliveMs = props.keepAliveMs ?? 10_000;
  const listedAt = Math.floor(Date.now() / 1000);
  const lanes = new KeyedLanes();
  const modelEntry = (id: string) => ({ id, object: "model", created: listedAt, owned_by: "engram" });

  // No HEAD twins: OpenAI clients never send one, and a HEAD answer has no body to carry an error code.
  const noHead = { exposeHeadRoute: false } as const;
  scope.get("/models", noHead, async () => ({ object: "list", data: models.map(modelEntry) }));
  scope.get("/models/:model", noHead, async (request) => {
    const { model } = request.params as { model: string };
    if (!models.includes(model)) throw new EngramError("NOT_FOUND", `No model ${JSON.stringify(model)}`);
    return modelEntry(model);
  });

  scope.post("/chat/completions", async (request, reply) => {
    const body = parseInput(chatCompletionBody, request.body, "body");
    if (!models.includes(body.model)) {
      throw new EngramError("NOT_FOUND", `No model ${JSON.stringify(body.model)}; GET /v1/models lists them`);
    }
    const source = sourceOf(request.headers[SESSION_HEADER], body);
    const conversation = conversationOf(body.messages);
    if ("unsupported" in conversation) {
      throw new InvalidArgumentError(
        `body.messages.${conversation.unsupported}.content`,
        "only text content is supported",
      );
    }
    if (conversation.turns.at(-1)?.role !== "user") {
      throw new InvalidArgumentError("body.messages", "must end with a user message");
    }
    // Reconciling and running are one step per session in this process, so two requests resending
    // the same history cannot both see it as new.
    const lane = `${source.chatId}\n${source.userId ?? ""}`;
    const turn = (onEvent: (event: AgentEvent) => void) =>
      lanes.run(lane, () => runTurn(props, source, conversation.turns, onEvent));
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    if (body.stream) {
      const includeUsage = body.stream_options?.include_usage === true;
      return streamAnswer(reply, turn, { id, created, model: body.model, keepAliveMs, includeUsage });
    }
    let reported: TokenUsage | undefined;
    const ran = await turn((event) => {
      if (event.type === "usage") reported = event.usage;
    });
    const answer = completedAnswer(ran.turn);
    reply.header("x-engram-session-id", answer.sessionId);
    return {
      id,
      object: "chat.completion",
      created,
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: answer.text, refusal: null },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: usageOf(reported, ran.prompt, answer.text),
    };
  });
}

/** The `usage` object of an answer: what the model reported, else an estimate (see the routes' doc). */
function usageOf(reported: TokenUsage | undefined, prompt: string, completion: string) {
  if (reported && reported.totalTokens > 0) {
    return {
      prompt_tokens: reported.promptTokens,
      completion_tokens: reported.completionTokens,
      total_tokens: reported.totalTokens,
    };
  }
  const estimate = (text: string) => Math.ceil(text.length / 4);
  const promptTokens = estimate(prompt);
  const completionTokens = estimate(completion);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** The session source a request names: `X-Engram-Session` (the conversation) and `user` (the person). */
function sourceOf(header: string | string[] | undefined, body: ChatCompletionBody): SessionSource {
  if (Array.isArray(header)) {
    throw new InvalidArgumentError(`headers.${SESSION_HEADER}`, "must be given once");
  }
  const session =
    header === undefined ? undefined : parseInput(sessionHeader, header, `headers.${SESSION_HEADER}`);
  const name = session ?? body.user;
  if (name === undefined) {
    throw new InvalidArgumentError(
      "session",
      `name the session with the ${SESSION_HEADER} header or the user field`,
    );
  }
  // Path-safe, storable ids: a name the session key cannot hold is refused here (INVALID_ID).
  return parseSessionSource({
    platform: OPENAI_PLATFORM,
    chatType: "dm",
    chatId: name,
    userId: body.user ?? name,
  });
}

/** A turn the API ran (or answered as a repeat), with the user text it sent to the agent. */
interface RanTurn {
  readonly turn: TurnReply;
  readonly prompt: string;
}

async function runTurn(
  props: OpenAICompatibleProps,
  source: SessionSource,
  incoming: readonly ConversationTurn[],
  onEvent: (event: AgentEvent) => void,
): Promise<RanTurn> {
  const current = await props.currentTranscript(source);
  const stored: ConversationTurn[] = [];
  for (const m of current.messages) {
    if ((m.role === "user" || m.role === "assistant") && m.content)
      stored.push({ role: m.role, content: m.content });
  }
  const turns = newUserTurns(incoming, stored);
  const text = turns.map((t) => t.content).join("\n\n");
  const turn = await props.handler.handle({
    source,
    text,
    onEvent,
    // The same conversation sent again (a client's retry) is the same platform message: the handler
    // answers it with the reply already given instead of running it twice, across processes too.
    messageId: `openai-${createHash("sha256").update(JSON.stringify(incoming)).digest("hex").slice(0, 48)}`,
  });
  return { turn, prompt: text };
}

/** The reply text of a finished turn, or the error an OpenAI client should see instead. */
function completedAnswer(turn: TurnReply): { sessionId: string; text: string } {
  if (turn.reply !== null) return { sessionId: turn.sessionId, text: turn.reply };
  if (turn.stopped && !turn.duplicate) return { sessionId: turn.sessionId, text: "" };
  throw new EngramError(
    "CONFLICT",
    turn.pending
      ? "The same request is still being answered; send it again later"
      : "The same request was interrupted before it was answered; send a new message",
  );
}

interface StreamProps {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly keepAliveMs: number;
  /** `stream_options.include_usage`: a last chunk with empty `choices` carries `usage`. */
  readonly includeUsage: boolean;
}

/** Characters per streamed content chunk. */
const CHUNK_CHARS = 64;

async function streamAnswer(
  reply: FastifyReply,
  turn: (onEvent: (event: AgentEvent) => void) => Promise<RanTurn>,
  props: StreamProps,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  const write = (text: string) => {
    if (!raw.destroyed && !raw.writableEnded) raw.write(text);
  };
  const event = (fields: Record<string, unknown>) =>
    write(
      `data: ${JSON.stringify({
        id: props.id,
        object: "chat.completion.chunk",
        created: props.created,
        model: props.model,
        ...fields,
      })}\n\n`,
    );
  const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
    event({ choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] });
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    chunk({ role: "assistant", content: "" }, null);
  };
  // Text streamed since the agent's last tool call: the start of the reply the turn ends with.
  let sinceToolCall = "";
  let reported: TokenUsage | undefined;
  const onEvent = (agentEvent: AgentEvent) => {
    if (agentEvent.type === "text" && agentEvent.delta) {
      start();
      sinceToolCall += agentEvent.delta;
      chunk({ content: agentEvent.delta }, null);
    } else if (agentEvent.type === "tool_call") {
      sinceToolCall = "";
    } else if (agentEvent.type === "usage") {
      reported = agentEvent.usage;
    }
  };
  write(": engram is thinking\n\n");
  const keepAlive = setInterval(() => write(": keep-alive\n\n"), props.keepAliveMs);
  try {
    // The turn runs to its end even when the client went away: its message is stored and answered.
    const ran = await turn(onEvent);
    const answer = completedAnswer(ran.turn);
    start();
    // What the deltas did not carry: all of a repeat's reply (it ran nothing), else normally nothing.
    const rest = answer.text.startsWith(sinceToolCall) ? answer.text.slice(sinceToolCall.length) : "";
    for (let i = 0; i < rest.length; i += CHUNK_CHARS) {
      chunk({ content: rest.slice(i, i + CHUNK_CHARS) }, null);
    }
    chunk({}, "stop");
    if (props.includeUsage) event({ choices: [], usage: usageOf(reported, ran.prompt, answer.text) });
    write("data: [DONE]\n\n");
  } catch (error) {
    // The status line is gone: the error travels as an event, which OpenAI clients raise.
    const failure = isEngramError(error) ? error : new EngramError("INTERNAL", "The turn failed");
    if (!isEngramError(error)) reply.log.error({ err: error }, "chat completion failed");
    write(`data: ${JSON.stringify({ error: { ...failure.toJSON().error, type: "engram_error" } })}\n\n`);
  } finally {
    clearInterval(keepAlive);
    if (!raw.writableEnded) raw.end();
  }
}

/** Runs tasks of one key one after another (other keys in parallel). */
class KeyedLanes {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
