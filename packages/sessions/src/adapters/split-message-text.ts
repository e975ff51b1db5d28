/**
 * Splits a reply for a platform that caps one message's length (Telegram 4096, Discord 2000, ...):
 * splits `text` into chunks of at most `maxLength` UTF-16 code units, in order. A chunk ends at the
 * last line break of its window, else at the last space, when that keeps it at least half full;
 * otherwise it is cut hard, never inside a surrogate pair. The separator a chunk ends at is dropped,
 * so the chunks joined by their separators give the text back.
 */
export function splitMessageText(text: string, maxLength: number): string[] {
  if (!Number.isInteger(maxLength) || maxLength < 2)
    throw new RangeError("maxLength must be an integer >= 2");
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > maxLength) {
    const window = rest.slice(0, maxLength + 1);
    let cut = window.lastIndexOf("\n", maxLength);
    if (cut < maxLength / 2) cut = window.lastIndexOf(" ", maxLength);
    if (cut >= maxLength / 2) {
      chunks.push(rest.slice(0, cut));
      rest = rest.slice(cut + 1);
      continue;
    }
    cut = maxLength;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}
