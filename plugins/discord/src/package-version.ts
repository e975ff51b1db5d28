// Written by tooling/scripts/sync-versions.mjs from package.json (on build and on version-packages).
// Do not edit: change package.json instead.

/** This plugin's version: its `package.json` version. */
export const PLUGIN_VERSION = "0.1.0";

/** The `@engram/core` range it works with: its `package.json` peer range on `@engram/core`. */
export const PLUGIN_ENGRAM_RANGE = ">=0.1.0 <1.0.0";
