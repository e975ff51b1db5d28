import { sha256Hex } from "./sha256.js";

/**
 * Platforms whose ids can be replaced by hashes in a prompt: none of them needs a raw id in the
 * message text. Discord is deliberately absent: mentions are written `<@user_id>`, so the model needs
 * the real id to tag someone.
 */
export const PII_SAFE_PLATFORMS: ReadonlySet<string> = new Set([
  "whatsapp",
  "signal",
  "telegram",
  "bluebubbles",
]);

/** Deterministic 12-hex-character digest of an id: the first 12 hex digits of its SHA-256. */
export function hashId(value: string): string {
  return sha256Hex(value).slice(0, 12);
}

/** A sender id as the model may see it when redaction is on: `user_<12 hex>`. */
export function hashSenderId(value: string): string {
  return `user_${hashId(value)}`;
}

/**
 * A chat id as the model may see it when redaction is on. A `prefix:` (as in `telegram:12345`) is
 * kept so the model still knows the platform; only the rest is hashed. A leading colon is not a
 * prefix, so `:123` is hashed whole.
 */
export function hashChatId(value: string): string {
  const colon = value.indexOf(":");
  if (colon > 0) return `${value.slice(0, colon)}:${hashId(value.slice(colon + 1))}`;
  return hashId(value);
}
