import { InvalidIdError } from "../errors/index.js";
import { findTextViolation } from "../input/storable-text.js";

/**
 * Longest identifier accepted by default. Platform ids (Telegram, Slack, Matrix, Signal UUIDs) are far
 * shorter; session keys concatenate a handful of them, so 256 leaves room without letting a hostile
 * value blow up file names (most file systems cap a name at 255 bytes).
 */
export const MAX_ID_LENGTH = 256;

/** Why an identifier was rejected; stable strings, usable in logs and `InvalidIdError.details.rule`. */
export type IdViolation =
  | "not a string"
  | "empty"
  | "too long"
  | "control character"
  | "unpaired surrogate"
  | "parent traversal (..)"
  | "path separator"
  | "drive letter prefix"
  | "leading dot";

export interface SafeIdProps {
  /** Upper bound on `value.length`; defaults to {@link MAX_ID_LENGTH}. */
  readonly maxLength?: number;
}

// C0 controls, DEL and C1 controls: none has a place in an id, and NUL truncates paths in C APIs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE_LETTER = /^[A-Za-z]:/;

function segmentViolation(value: unknown, maxLength: number): IdViolation | undefined {
  if (typeof value !== "string") return "not a string";
  if (value.length === 0) return "empty";
  if (value.length > maxLength) return "too long";
  if (CONTROL_CHARS.test(value)) return "control character";
  // No UTF-8 form: the database refuses it (or mangles it into U+FFFD, a different id).
  if (findTextViolation(value) === "unpaired surrogate") return "unpaired surrogate";
  if (value.includes("..")) return "parent traversal (..)";
  if (value.includes("/") || value.includes("\\")) return "path separator";
  return undefined;
}

/**
 * The first rule `value` breaks as a whole identifier that may become a file name (session id, session
 * key), or `undefined` when it is safe. Rules: a non-empty string of at most `maxLength` characters
 * with no control characters, no unpaired surrogate, no `..`, no `/` or `\` anywhere, no leading drive letter (`C:`) and no
 * leading dot (hidden files, `.` itself).
 */
export function findIdViolation(value: unknown, props: SafeIdProps = {}): IdViolation | undefined {
  const violation = segmentViolation(value, props.maxLength ?? MAX_ID_LENGTH);
  if (violation !== undefined) return violation;
  const text = value as string;
  if (DRIVE_LETTER.test(text)) return "drive letter prefix";
  if (text.startsWith(".")) return "leading dot";
  return undefined;
}

/** Type guard over {@link findIdViolation}. */
export function isSafeId(value: unknown, props?: SafeIdProps): value is string {
  return findIdViolation(value, props) === undefined;
}

/**
 * Throws `InvalidIdError` (code `INVALID_ID`) unless `value` is a path-safe identifier (see
 * {@link findIdViolation}). `kind` names the id in the message, e.g. `"session id"`.
 */
export function assertSafeId(kind: string, value: unknown, props?: SafeIdProps): asserts value is string {
  const violation = findIdViolation(value, props);
  if (violation !== undefined) throw new InvalidIdError(kind, value, violation);
}

/**
 * The first rule `value` breaks as one colon-separated segment of a session key (a platform, chat,
 * user or thread id), or `undefined`. Segments never stand alone as a path, so a leading dot or a
 * `x:`-style prefix (`telegram:123` chat ids exist) is allowed; separators, `..` and control
 * characters are not, so the key built from them stays path-safe.
 */
export function findKeySegmentViolation(value: unknown, props: SafeIdProps = {}): IdViolation | undefined {
  return segmentViolation(value, props.maxLength ?? MAX_ID_LENGTH);
}

/** Throws `InvalidIdError` unless `value` is a safe session-key segment (see {@link findKeySegmentViolation}). */
export function assertSafeKeySegment(
  kind: string,
  value: unknown,
  props?: SafeIdProps,
): asserts value is string {
  const violation = findKeySegmentViolation(value, props);
  if (violation !== undefined) throw new InvalidIdError(kind, value, violation);
}
