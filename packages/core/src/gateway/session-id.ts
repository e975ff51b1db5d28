import { InvalidArgumentError } from "../errors/index.js";
import type { UtcOffset } from "./reset-policy.js";

const SUFFIX = /^[0-9a-f]{8}$/;
const pad = (value: number, width = 2): string => String(value).padStart(width, "0");

/**
 * A new gateway session id, `YYYYMMDD_HHMMSS_<8 hex>`: sortable by creation time (local time, as the
 * reset boundary), path-safe, and unique through the random `suffix` the caller supplies (for example
 * the first 8 hex digits of a UUID). Kept pure: the clock reading and the randomness are inputs.
 *
 * @throws InvalidArgumentError when `suffix` is not 8 lower-case hex digits or `now` is not finite.
 */
export function formatSessionId(now: number, suffix: string, utcOffset: UtcOffset = 0): string {
  if (!SUFFIX.test(suffix)) throw new InvalidArgumentError("suffix", "must be 8 lower-case hex digits");
  if (!Number.isFinite(now)) throw new InvalidArgumentError("now", "must be a finite epoch time in ms");
  const offsetMinutes = typeof utcOffset === "number" ? utcOffset : utcOffset(now);
  const local = new Date(now + offsetMinutes * 60_000);
  const date = `${pad(local.getUTCFullYear(), 4)}${pad(local.getUTCMonth() + 1)}${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}${pad(local.getUTCMinutes())}${pad(local.getUTCSeconds())}`;
  return `${date}_${time}_${suffix}`;
}
