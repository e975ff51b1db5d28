// Shared Vitest preset. Unit tests (`*.test.ts`) and integration tests (`*.int.test.ts`, which talk to
// real PostgreSQL/PGlite and real HTTP servers) run as separate projects so either can be run alone:
// `vitest run --project unit` / `--project int`.
import { defineConfig } from "vitest/config";

/** @param {{ intTimeoutMs?: number }} [props] */
export function engramVitestConfig(props = {}) {
  return defineConfig({
    test: {
      // The JSON report feeds tooling/scripts/test-summary.mjs (one "N passed, N failed" line in CI).
      reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
      projects: [
        {
          extends: true,
          test: {
            name: "unit",
            include: ["src/**/*.test.ts", "test/**/*.test.ts"],
            exclude: ["**/*.int.test.ts", "**/node_modules/**", "**/dist/**"],
          },
        },
        {
          extends: true,
          test: {
            name: "int",
            include: ["src/**/*.int.test.ts", "test/**/*.int.test.ts"],
            exclude: ["**/node_modules/**", "**/dist/**"],
            testTimeout: props.intTimeoutMs ?? 60_000,
            hookTimeout: props.intTimeoutMs ?? 60_000,
            // Integration files share one database server; run them one file at a time.
            fileParallelism: false,
          },
        },
      ],
    },
  });
}
