import { parseSessionSource, type SessionSource, toStorableText } from "@engram/core";
import { z } from "zod";

/** The `SessionSource.platform` of Slack messages. */
export const SLACK_PLATFORM = "slack";

// Loose objects: Slack adds fields over time; only what the adapter reads is checked.
const slackMessageEventSchema = z.looseObject({
  type: z.string(),
  subtype: z.string().optional(),
  channel: z
    .string()
    .regex(/^[A-Z0-9]{1,32}$/, "must be a Slack channel id")
    .optional(),
  channel_type: z.string().optional(),
  user: z
    .string()
    .regex(/^[A-Z0-9]{1,32}$/, "must be a Slack user id")
    .optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  ts: z
    .string()
    .regex(/^\d+\.\d+$/, "must be a Slack timestamp")
    .optional(),
  thread_ts: z
    .string()
    .regex(/^\d+\.\d+$/, "must be a Slack timestamp")
    .optional(),
});

/** A body Slack posts to the Events API request URL. */
export const slackEnvelopeSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("url_verification"), challenge: z.string().max(1000) }),
  z.looseObject({
    type: z.literal("event_callback"),
    event_id: z.string().optional(),
    team_id: z.string().optional(),
    event: slackMessageEventSchema,
  }),
]);

export type SlackEnvelope = z.output<typeof slackEnvelopeSchema>;
export type SlackMessageEvent = z.output<typeof slackMessageEventSchema>;

/** One text message of an event, ready for the runtime. */
export interface SlackInbound {
  readonly source: SessionSource;
  readonly text: string;
  /** `<channel>:<ts>`: a message's `ts` is unique in its channel and the same on Slack's retries. */
  readonly messageId: string;
  readonly timestamp: number;
  readonly channel: string;
  /** The thread to answer in (thread replies). */
  readonly threadTs?: string;
}

/**
 * Maps a message event to what the runtime handles, or `undefined`: no text, edits and other
 * subtypes, bots (the adapter's own replies included), unknown channel types. `im` -> dm, `channel`,
 * `group` and `mpim` -> group, a reply in a thread (`thread_ts` other than its own `ts`) -> thread
 * keyed by the thread's first message. `app_mention` events are ignored: the same message also comes
 * as a `message` event, which would answer it twice.
 */
export function slackInboundFromEvent(event: SlackMessageEvent): SlackInbound | undefined {
  if (event.type !== "message" || event.subtype !== undefined || event.bot_id !== undefined) return undefined;
  if (!event.channel || !event.user || !event.ts || !event.text || event.text.trim() === "") return undefined;
  const inThread = event.thread_ts !== undefined && event.thread_ts !== event.ts;
  let chatType: SessionSource["chatType"];
  if (event.channel_type === "im") chatType = "dm";
  else if (["channel", "group", "mpim"].includes(event.channel_type ?? ""))
    chatType = inThread ? "thread" : "group";
  else return undefined;
  const source = parseSessionSource({
    platform: SLACK_PLATFORM,
    chatId: event.channel,
    chatType,
    userId: event.user,
    ...(chatType === "thread" ? { threadId: event.thread_ts } : {}),
  });
  return {
    source,
    text: toStorableText(event.text),
    messageId: `${event.channel}:${event.ts}`,
    timestamp: Math.round(Number(event.ts) * 1000),
    channel: event.channel,
    ...(chatType === "thread" ? { threadTs: event.thread_ts } : {}),
  };
}
