import { EngramError, InvalidArgumentError, type Logger, type SessionSource } from "@engram/core";
import {
  failureReply,
  type InboundHandler,
  isRefusal,
  type PlatformAdapter,
  replyText,
  splitMessageText,
} from "@engram/sessions";
import { type RetryOptions, WebClient } from "@slack/web-api";
import type { FastifyInstance } from "fastify";
import {
  SLACK_PLATFORM,
  type SlackInbound,
  slackEnvelopeSchema,
  slackInboundFromEvent,
} from "./slack-event.js";
import { verifySlackSignature } from "./slack-signature.js";

/** Where Slack posts events (the app's Event Subscriptions "Request URL"). */
export const SLACK_EVENTS_PATH = "/slack/events";
/** Slack's advice for one message's text (the hard cap is 40,000): longer replies are split. */
export const SLACK_MAX_MESSAGE_LENGTH = 4000;

export interface SlackAdapterProps {
  /** Bot token (`xoxb-...`), for `chat.postMessage`. */
  readonly botToken: string;
  /** The app's signing secret: every event request must be signed with it. */
  readonly signingSecret: string;
  /** Web API base URL (default `https://slack.com/api/`); a stand-in in tests. */
  readonly apiUrl?: string;
  /** Default {@link SLACK_EVENTS_PATH}. */
  readonly eventsPath?: string;
  /** Unix seconds now (signature window); default the system clock. */
  readonly nowSeconds?: () => number;
  /** Retries of a Web API call (429s wait for their `Retry-After`); default 3 quick retries. */
  readonly retryConfig?: RetryOptions;
  readonly logger?: Logger;
}

/**
 * The Slack platform over the Events API: a request URL that takes signed `message` events and replies
 * with `chat.postMessage` (in the thread for thread replies).
 *
 * Acknowledged (200) once the message is saved; Slack retries an unacknowledged event (with
 * `X-Slack-Retry-Num`), and a retry of a saved one is recognised by its message id (`<channel>:<ts>`)
 * and answered once. A message that could not be saved answers the error, so Slack retries it.
 * Rate limits: the Web API client waits out a 429's `Retry-After`.
 */
export class SlackAdapter implements PlatformAdapter {
  readonly platform = SLACK_PLATFORM;
  readonly client: WebClient;
  readonly #signingSecret: string;
  readonly #path: string;
  readonly #now: () => number;
  readonly #inFlight = new Set<Promise<void>>();
  #log: Logger | undefined;

  constructor(props: SlackAdapterProps) {
    if (props.signingSecret === "") throw new InvalidArgumentError("signingSecret", "must not be empty");
    this.client = new WebClient(props.botToken, {
      ...(props.apiUrl ? { slackApiUrl: props.apiUrl } : {}),
      retryConfig: props.retryConfig ?? { retries: 3, factor: 1, minTimeout: 100, maxTimeout: 1000 },
    });
    this.#signingSecret = props.signingSecret;
    this.#path = props.eventsPath ?? SLACK_EVENTS_PATH;
    this.#now = props.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.#log = props.logger;
  }

  register(server: FastifyInstance, inbound: InboundHandler): void {
    this.#log = server.log.child({ platform: SLACK_PLATFORM });
    // Its own scope: the signature covers the body's exact bytes, so this route keeps them as text.
    void server.register(async (scope) => {
      scope.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) =>
        done(null, body),
      );
      scope.post(this.#path, async (request, reply) => {
        const rawBody = typeof request.body === "string" ? request.body : "";
        const header = (name: string) => {
          const value = request.headers[name];
          return typeof value === "string" ? value : undefined;
        };
        if (
          !verifySlackSignature({
            signingSecret: this.#signingSecret,
            timestamp: header("x-slack-request-timestamp"),
            signature: header("x-slack-signature"),
            rawBody,
            nowSeconds: this.#now(),
          })
        ) {
          throw new EngramError("UNAUTHORIZED", "Missing, stale or wrong X-Slack-Signature");
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(rawBody);
        } catch {
          throw new InvalidArgumentError("body", "is not JSON");
        }
        const envelope = slackEnvelopeSchema.safeParse(parsed);
        if (!envelope.success) {
          // Other callbacks (app_rate_limited, ...) are acknowledged and ignored: a refusal makes Slack retry.
          return reply.status(200).send({ ok: true, ignored: true });
        }
        if (envelope.data.type === "url_verification") return { challenge: envelope.data.challenge };
        const message = slackInboundFromEvent(envelope.data.event);
        if (!message) return reply.status(200).send({ ok: true, ignored: true });
        await new Promise<void>((stored, failed) => {
          this.#track(this.#runTurn(inbound, message, { stored, failed }));
        });
        return reply.status(200).send({ ok: true });
      });
    });
  }

  /** Asks `auth.test`: a wrong token fails start-up. */
  async start(): Promise<void> {
    const auth = await this.client.auth.test();
    this.#log?.info({ team: auth.team, bot: auth.user }, "slack bot ready");
  }

  async stop(): Promise<void> {
    await this.whenIdle();
  }

  async whenIdle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Sends to the channel of `source` (into its thread for a thread source), split at 4000 characters. */
  async send(source: SessionSource, text: string): Promise<void> {
    if (source.platform !== SLACK_PLATFORM)
      throw new InvalidArgumentError("source.platform", `must be ${SLACK_PLATFORM}`);
    await this.#deliver(source.chatId, source.chatType === "thread" ? source.threadId : undefined, text);
  }

  async #runTurn(
    inbound: InboundHandler,
    message: SlackInbound,
    ack: { readonly stored: () => void; readonly failed: (error: unknown) => void },
  ): Promise<void> {
    let stored = false;
    const onStored = () => {
      stored = true;
      ack.stored();
    };
    let reply: string | null;
    try {
      const result = await inbound({
        source: message.source,
        text: message.text,
        messageId: message.messageId,
        timestamp: message.timestamp,
        onStored,
      });
      onStored();
      if (result.duplicate) return;
      reply = replyText(result);
    } catch (error) {
      const refused = isRefusal(error);
      if (!stored && !refused) {
        this.#log?.warn(
          { err: error, messageId: message.messageId },
          "slack message not saved; left for retry",
        );
        ack.failed(error);
        return;
      }
      if (!stored) onStored();
      reply = failureReply(error);
    }
    if (reply === null) return;
    try {
      await this.#deliver(message.channel, message.threadTs, reply);
    } catch (error) {
      this.#log?.error({ err: error, messageId: message.messageId }, "slack reply not delivered");
    }
  }

  async #deliver(channel: string, threadTs: string | undefined, text: string): Promise<void> {
    if (text.trim() === "") return;
    for (const part of splitMessageText(text, SLACK_MAX_MESSAGE_LENGTH)) {
      await this.client.chat.postMessage({
        channel,
        text: part,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }
}
