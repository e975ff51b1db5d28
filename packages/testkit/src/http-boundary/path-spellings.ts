/** Another way to write a request path, and what it is. */
export interface PathSpelling {
  readonly name: string;
  readonly path: string;
}

const hex = (char: string, upper: boolean) => {
  const code = char.charCodeAt(0).toString(16);
  return `%${upper ? code.toUpperCase() : code}`;
};

/** Every ASCII letter of `segment` percent-encoded (`api` -> `%61%70%69`). */
function encodeLetters(segment: string, upper = false): string {
  return segment.replace(/[A-Za-z]/g, (char) => hex(char, upper));
}

/**
 * Spellings of `path` (a concrete path such as `/api/session/abc`) that a router which decodes the
 * path may match to the same route, or that a check on the raw string would read differently:
 * percent-encoded letters (first letter, whole first segment, every segment, upper-case hex), doubled
 * slashes, `.` segments (plain and encoded), a trailing slash, upper and mixed case, a query string,
 * a `;` parameter and backslashes between segments. The path itself comes first.
 */
export function pathSpellings(path: string): PathSpelling[] {
  const segments = path.split("/").slice(1);
  const [first = "", ...rest] = segments;
  const tail = rest.length > 0 ? `/${rest.join("/")}` : "";
  const firstLetter = first.search(/[A-Za-z]/);
  const encodedFirstLetter =
    firstLetter < 0
      ? first
      : `${first.slice(0, firstLetter)}${hex(first[firstLetter] as string, false)}${first.slice(firstLetter + 1)}`;
  const spellings: PathSpelling[] = [
    { name: "as registered", path },
    { name: "first letter %-encoded", path: `/${encodedFirstLetter}${tail}` },
    { name: "first segment %-encoded", path: `/${encodeLetters(first)}${tail}` },
    {
      name: "every letter %-encoded (upper-case hex)",
      path: `/${segments.map((s) => encodeLetters(s, true)).join("/")}`,
    },
    {
      name: "last segment %-encoded",
      path: `/${[...segments.slice(0, -1), encodeLetters(segments.at(-1) ?? "")].join("/")}`,
    },
    { name: "doubled leading slash", path: `/${path}` },
    { name: "doubled inner slash", path: `/${first}/${tail}` },
    { name: "dot segment", path: `/.${path}` },
    { name: "encoded dot segment", path: `/%2e${path}` },
    { name: "parent segment", path: `/x/..${path}` },
    { name: "trailing slash", path: `${path}/` },
    { name: "upper case", path: path.toUpperCase() },
    { name: "mixed case", path: `/${first.charAt(0).toUpperCase()}${first.slice(1)}${tail}` },
    { name: "query string", path: `${path}?x=1` },
    { name: "semicolon parameter", path: `${path};x=1` },
    { name: "inner backslashes", path: `/${path.slice(1).replaceAll("/", "\\")}` },
  ];
  const seen = new Set<string>();
  return spellings.filter((spelling) => !seen.has(spelling.path) && seen.add(spelling.path));
}

/** `url` (a route pattern such as `/api/session/:id`) with each `:param` replaced by `value(name)`. */
export function fillRouteParams(url: string, value: (name: string) => string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, (_match, name: string) => value(name));
}
