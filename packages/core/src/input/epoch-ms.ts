/**
 * The latest instant accepted as a timestamp from outside: 9999-12-31T23:59:59.999Z. JavaScript dates
 * reach year 275760 and PostgreSQL's `timestamptz` year 294276, but a client's clock past year 9999 is
 * a bug or an attack, and four-digit years keep every rendering of the time well-formed.
 */
export const MAX_EPOCH_MS = 253_402_300_799_999;

/** Whether `value` is a number of epoch milliseconds from 1970 to {@link MAX_EPOCH_MS}. */
export function isEpochMs(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= MAX_EPOCH_MS;
}
