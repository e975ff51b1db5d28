// Written by tooling/scripts/sync-versions.mjs from package.json (on build and on version-packages).
// Do not edit: change package.json instead.

/**
 * Version of this `@engram/core` build, compared against each plugin's `engram` range. Generated from
 * `package.json`, and a unit test keeps the two equal, so a release cannot ship with a stale value.
 */
export const ENGRAM_CORE_VERSION = "0.1.0";
