import type { ChatRole } from "@engram/core";
import { InvalidArgumentError } from "@engram/core";

/** One message held in a session buffer until a commit archives it. */
export interface SessionMessage {
  /** `msg_` + 12 hex digits, unique per manager. */
  readonly id: string;
  readonly role: ChatRole;
  readonly content: string;
  /** Epoch milliseconds: the caller's time when given, else the manager's clock. */
  readonly createdAt: number;
  /** {@link estimateTokens} of `content`, computed once on add. */
  readonly estimatedTokens: number;
}

/** What a caller hands to `addMessage`. */
export interface NewSessionMessage {
  readonly role: ChatRole;
  readonly content: string;
  /** When the message was said (epoch ms); defaults to now. */
  readonly createdAt?: number;
}

const ROLES: ReadonlySet<string> = new Set(["system", "user", "assistant", "tool"]);

/**
 * A cheap, deterministic token estimate: about four characters per token, the usual rule of thumb
 * for English text with BPE tokenizers. Thresholds and budgets only need the order of magnitude, and
 * a tokenizer would tie core to one model family.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function newMessageId(): string {
  return `msg_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** Throws `INVALID_ARGUMENT` unless `message` has a known role, string content and a sane time. */
export function assertNewSessionMessage(message: NewSessionMessage): void {
  if (typeof message?.role !== "string" || !ROLES.has(message.role)) {
    throw new InvalidArgumentError(
      "role",
      `${JSON.stringify(message?.role)} must be one of ${[...ROLES].join(", ")}`,
    );
  }
  if (typeof message.content !== "string") throw new InvalidArgumentError("content", "must be a string");
  if (message.createdAt !== undefined && !Number.isFinite(message.createdAt)) {
    throw new InvalidArgumentError("createdAt", "must be a finite epoch-millisecond number");
  }
}
