import { engramVitestConfig } from "@engram/vitest-config";
import { mergeConfig } from "vitest/config";

// Until @engram/testkit has a package.json, tests import its stand-in server and conformance kit by
// path; `dedupe` resolves their bare imports (core, store, kysely, vitest) from this package.
export default mergeConfig(engramVitestConfig(), {
  resolve: { dedupe: ["@engram/core", "@engram/store", "kysely", "vitest"] },
});
