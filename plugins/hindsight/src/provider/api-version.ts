/** First Hindsight release with `update_mode: "append"` on retain. */
export const MIN_APPEND_VERSION = "0.5.0";

function parts(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** Whether `version` is at least `minimum` (major.minor.patch; prerelease tags ignored). Unparsable: false. */
export function isAtLeastVersion(version: string | undefined, minimum: string): boolean {
  const actual = version ? parts(version) : undefined;
  const wanted = parts(minimum);
  if (!actual || !wanted) return false;
  for (let i = 0; i < 3; i++) {
    if (actual[i] !== wanted[i]) return (actual[i] ?? 0) > (wanted[i] ?? 0);
  }
  return true;
}
