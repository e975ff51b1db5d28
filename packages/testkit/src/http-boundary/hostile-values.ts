import fc from "fast-check";

/**
 * Strings that have broken servers: NUL bytes, unpaired surrogates (alone, swapped, at either end),
 * path tricks, percent-escapes taken literally, bidi and BOM characters, injection-looking text, and
 * lengths past every limit. Each is a JavaScript string; JSON bodies carry them as `\u` escapes.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0000\u0000\u0000",
  "\ud800",
  "x\udc00y",
  "\udfff\ud800",
  "end\udbff",
  "\ud83d\ude00",
  "..",
  "../../etc/passwd",
  "a/b",
  "a\\b",
  "C:x",
  ".hidden",
  "%00",
  "%zz",
  "\u202e\u2066",
  "\ufeff",
  "\r\n",
  "\u001b[31m",
  "<script>alert(1)</script>",
  "' or 1=1 --",
  "$\u{7b}process.exit()}",
  "__proto__",
  "constructor",
  "null",
  "1e308",
  "x".repeat(101),
  "x".repeat(300),
  "x".repeat(70_000),
];

/** Numbers at and past every range a field may have. */
export const HOSTILE_NUMBERS: readonly number[] = [
  0,
  -1,
  0.5,
  -0.000001,
  1e-300,
  1e308,
  -1e308,
  2 ** 31,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_SAFE_INTEGER,
  253_402_300_800_000,
];

/**
 * Number literals that JSON allows but `JSON.stringify` never writes: past 2^53 (`9007199254740993`
 * parses to 2^53), past a double (`1e999` parses to Infinity), and `-0`.
 */
export const HOSTILE_NUMBER_LITERALS: readonly string[] = [
  "9007199254740993",
  "-9007199254740993",
  "123456789012345678901234567890",
  "1e999",
  "-1e999",
  "1E400",
  "-0",
];

/** Bodies that are not the JSON they claim to be, or JSON built to hurt a parser. */
export const HOSTILE_RAW_BODIES: readonly string[] = [
  "",
  "   ",
  "{",
  '{"a":',
  "[",
  "nul",
  "undefined",
  "'single'",
  '"\\ud800"',
  '"\\u0000"',
  '{"a":1,"a":2}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  `${"[".repeat(5000)}${"]".repeat(5000)}`,
  `{"a":"${"\\u0000".repeat(1000)}"}`,
  "\u0000",
  "\ufeff{}",
  "x".repeat(2 * 1024 * 1024),
];

/** Percent-escapes as they would appear raw in a path or query (not all decode). */
export const RAW_PERCENT_ESCAPES: readonly string[] = [
  "%00",
  "a%00b",
  "%zz",
  "%",
  "%E",
  "%ED%A0%80",
  "%C0%AF",
  "%FF",
  "%2e%2e",
  "..%2F..%2Fetc",
  "%252e",
  "%0d%0a",
];

/** `encodeURIComponent`, except that an unpaired surrogate (which it refuses) is sent as U+FFFD. */
export function encodeComponent(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, "\ufffd"));
  }
}

/** A hostile string: one of {@link HOSTILE_STRINGS}, or random code units of any kind. */
export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.string({ maxLength: 8 }),
          fc.constantFrom("\u0000", "\ud800", "\udc00"),
          fc.string({ maxLength: 8 }),
        )
        .map(([a, bad, b]) => a + bad + b),
    },
  );

/** A hostile JSON value of any type: strings and numbers from the lists, wrong shapes, nesting. */
export const hostileJsonValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: hostileString() },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [1, 2], { a: { b: {} } }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );

/** A query or path component: an encoded hostile string, or raw percent-escapes. */
export const hostileComponent = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 2, arbitrary: hostileString().map(encodeComponent) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_PERCENT_ESCAPES) },
  );
