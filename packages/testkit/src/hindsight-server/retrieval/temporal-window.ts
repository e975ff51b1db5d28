/** A closed time window, epoch ms. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

const DAY = 86_400_000;
const ISO_DATE = /\b(\d{4})-(\d{2})-(\d{2})\b/;

function dayOf(ms: number): TimeWindow {
  const start = Math.floor(ms / DAY) * DAY;
  return { start, end: start + DAY - 1 };
}

/**
 * The window the temporal arm ranks by, read from the query text relative to `anchorMs`: an ISO date,
 * `today`, `yesterday`, `last week` / `this week`, `last month`, `recently`. Undefined when the query
 * names no time, which leaves the arm empty.
 */
export function temporalWindowOf(query: string, anchorMs: number): TimeWindow | undefined {
  const date = ISO_DATE.exec(query);
  if (date) {
    const ms = Date.parse(`${date[1]}-${date[2]}-${date[3]}T00:00:00Z`);
    if (!Number.isNaN(ms)) return dayOf(ms);
  }
  const text = query.toLowerCase();
  if (/\btoday\b/.test(text)) return dayOf(anchorMs);
  if (/\byesterday\b/.test(text)) return dayOf(anchorMs - DAY);
  if (/\b(last|past|this) week\b/.test(text)) return { start: anchorMs - 7 * DAY, end: anchorMs };
  if (/\b(last|past|this) month\b/.test(text)) return { start: anchorMs - 31 * DAY, end: anchorMs };
  if (/\brecent(ly)?\b/.test(text)) return { start: anchorMs - 3 * DAY, end: anchorMs };
  return undefined;
}
