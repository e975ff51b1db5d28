/**
 * Version of this `@engram/core` build, compared against each plugin's `engram` range. A unit test
 * keeps it equal to `package.json`'s version, so a release cannot ship with a stale value.
 */
export const ENGRAM_CORE_VERSION = "0.1.0";
