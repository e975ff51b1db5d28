/**
 * What PostgreSQL can store of a JavaScript string. A `text` column refuses the NUL character
 * (`invalid byte sequence for encoding "UTF8": 0x00`), and an unpaired UTF-16 surrogate has no UTF-8
 * form: `jsonb` refuses its `\ud800` escape and the `text` encoder silently turns it into U+FFFD. Input
 * is checked against these rules where it enters, so the store never sees such a value.
 */

/** U+FFFD, what {@link toStorableText} puts in place of each unstorable character. */
export const REPLACEMENT_CHARACTER = "\ufffd";

/** Why a string cannot be stored as it is; stable strings, usable in error details. */
export type TextViolation = "NUL character" | "unpaired surrogate";

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. No `u`
// flag: with it the engine matches code points, and lone surrogates would not be visible as units.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters replaced
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The first reason `value` cannot be stored unchanged, or `undefined` when it can. */
export function findTextViolation(value: string): TextViolation | undefined {
  if (value.includes("\u0000")) return "NUL character";
  if (LONE_SURROGATE.test(value)) return "unpaired surrogate";
  return undefined;
}

/** Whether `value` can be stored unchanged (no NUL, no unpaired surrogate). */
export function isStorableText(value: string): boolean {
  return findTextViolation(value) === undefined;
}

/**
 * Free text as it will be stored: every NUL and every unpaired surrogate replaced by U+FFFD, the rest
 * (other control characters, emoji, any script) kept as typed. For message text, where refusing the
 * whole message would lose what the user wrote; identifiers, titles and names are refused instead.
 */
export function toStorableText(value: string): string {
  return value.replace(UNSTORABLE, REPLACEMENT_CHARACTER);
}
