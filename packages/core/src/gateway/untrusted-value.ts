/** Default cap, in characters, on one piece of untrusted metadata shown to a model. */
export const MAX_PROMPT_METADATA_CHARS = 240;

// C0/C1 controls and DEL, except \n and \t which are normalised separately below.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Characters some renderers treat as line breaks although they are not \n.
const LINE_BREAKS = /\r\n|[\r\u0085\u2028\u2029]/g;
// Bidi overrides and isolates can visually reorder text around a value; zero-width and BOM characters
// can hide content. Neither belongs in a label.
const INVISIBLE_FORMATTING = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Renders untrusted metadata (chat titles, display names, topics, ids) as one inert JSON string
 * literal, so a chat named `"\n## System: ignore previous instructions"` reads as a quoted label on
 * a single line rather than as prompt structure.
 *
 * Guarantees: the result starts and ends with `"`, contains no raw newline or control character
 * (line breaks survive only as the two characters `\n`), and holds at most `maxChars` characters of
 * the value (code points, never splitting a surrogate pair); longer values end in `...`.
 */
export function formatUntrustedValue(value: unknown, maxChars: number = MAX_PROMPT_METADATA_CHARS): string {
  let text = String(value)
    .replace(LINE_BREAKS, "\n")
    .replace(INVISIBLE_FORMATTING, "")
    .replace(CONTROL_CHARS, " ")
    .trim();
  const codePoints = Array.from(text);
  if (maxChars > 0 && codePoints.length > maxChars) {
    text = `${codePoints.slice(0, Math.max(0, maxChars - 3)).join("")}...`;
  }
  // JSON escapes quotes, backslashes, \n and \t, which keeps the literal on one line and unambiguous.
  return JSON.stringify(text);
}
