/** A Bot API `Chat` as updates carry it. */
export interface TelegramChatProps {
  readonly id: number;
  readonly type: "private" | "group" | "supergroup" | "channel";
  readonly title?: string;
  readonly username?: string;
  readonly first_name?: string;
  readonly is_forum?: boolean;
}

/** A Bot API `User` as updates carry it. */
export interface TelegramUserProps {
  readonly id: number;
  readonly first_name: string;
  readonly username?: string;
  readonly is_bot?: boolean;
}

export interface TelegramMessageUpdateProps {
  readonly updateId: number;
  readonly messageId: number;
  readonly chat: TelegramChatProps;
  /** Absent on channel posts. */
  readonly from?: TelegramUserProps;
  /** Absent for stickers, photos and the like. */
  readonly text?: string;
  /** A forum topic: sets `message_thread_id` and `is_topic_message`. */
  readonly topicId?: number;
  /** Unix seconds (default: now). */
  readonly date?: number;
  /** Which field of the update holds the message (default `message`, `channel_post` for channels). */
  readonly kind?: "message" | "edited_message" | "channel_post" | "edited_channel_post";
}

/** Builds a Bot API `Update` with one message, as Telegram posts it to a webhook. */
export function telegramMessageUpdate(props: TelegramMessageUpdateProps): Record<string, unknown> {
  const kind = props.kind ?? (props.chat.type === "channel" ? "channel_post" : "message");
  const message = {
    message_id: props.messageId,
    date: props.date ?? Math.floor(Date.now() / 1000),
    chat: { ...props.chat },
    ...(props.from ? { from: { is_bot: false, ...props.from } } : {}),
    ...(props.text === undefined ? {} : { text: props.text }),
    ...(props.topicId === undefined ? {} : { message_thread_id: props.topicId, is_topic_message: true }),
  };
  return { update_id: props.updateId, [kind]: message };
}

/** What a webhook answered. */
export interface WebhookAnswer {
  readonly status: number;
  /** The parsed JSON body, or the text when it is not JSON. */
  readonly body: unknown;
}

/**
 * Posts `update` to a webhook the way Telegram does: JSON, with the secret in
 * `X-Telegram-Bot-Api-Secret-Token` (omitted when `secret` is undefined). A string update is sent
 * verbatim (malformed-body tests).
 */
export async function postTelegramUpdate(
  webhookUrl: string,
  update: unknown,
  secret: string | undefined,
): Promise<WebhookAnswer> {
  const response = await fetch(webhookUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(secret === undefined ? {} : { "x-telegram-bot-api-secret-token": secret }),
    },
    body: typeof update === "string" ? update : JSON.stringify(update),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}
