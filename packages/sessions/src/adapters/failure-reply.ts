import { type EngramError, isEngramError } from "@engram/core";
import { autoResetNotice } from "../turns/reset-notices.js";
import type { TurnReply } from "../turns/turn-reply.js";

/** Sent when the model failed: the message is saved, and the user can simply send it again. */
export const TURN_FAILED_REPLY = "Sorry, I could not answer that just now. Please try again.";

/**
 * What a chat platform tells the person when their message or command failed: the gateway's own
 * words for a failure of theirs to fix (a 4xx: no such session, a bad argument, a message too long),
 * and a plain apology with the code for one on our side. Silence would leave them waiting for an
 * answer that never comes. Messages of 4xx errors name the value and the rule, never secrets.
 */
export function failureReply(error: unknown): string {
  if (!isEngramError(error)) return "Sorry, something went wrong on our side. Please try again later.";
  if (error.code === "MODEL_FAILED") return TURN_FAILED_REPLY;
  switch (error.code) {
    case "CONTENT_TOO_LARGE": {
      const { size, limit } = (error.details ?? {}) as { size?: number; limit?: number };
      return size !== undefined && limit !== undefined
        ? `That message is too long (${size} bytes; the limit is ${limit}). Please send it in parts.`
        : "That message is too long. Please send it in parts.";
    }
    case "CONFLICT":
      return `That did not go through: ${error.message}. Please try again.`;
  }
  if (error.httpStatus < 500) return error.message.endsWith(".") ? error.message : `${error.message}.`;
  return `Sorry, that failed on our side (${error.code}). Please try again later.`;
}

/**
 * A failure that is the person's to fix (a 4xx: a refused command or argument): final, so an adapter
 * acknowledges the event and answers it in the chat; any other failure before the message was saved
 * is left for the platform to deliver again.
 */
export function isRefusal(error: unknown): error is EngramError {
  return isEngramError(error) && error.httpStatus < 500;
}

/** The text to post for a turn's result: the reply, after the notice of an automatic reset if any. */
export function replyText(result: TurnReply): string | null {
  if (result.reply === null) return null;
  const notice = result.autoReset ? autoResetNotice(result.autoReset) : undefined;
  return notice === undefined ? result.reply : `${notice}\n\n${result.reply}`;
}
