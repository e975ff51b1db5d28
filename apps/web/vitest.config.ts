import { engramVitestConfig } from "@engram/vitest-config";

const config = engramVitestConfig();
// Composition code loads tsyringe, which needs the metadata polyfill first: the executables import it
// at the top of main.ts, tests get it here.
config.test = { ...config.test, setupFiles: ["reflect-metadata"] };

// Browser tests (e2e/) drive the built UI in Chromium against real servers: they join the `int`
// project, so they run with `pnpm test`, one file at a time like every other integration file.
// The UI's pure modules (ui/src) have unit tests of their own.
for (const project of config.test?.projects ?? []) {
  if (typeof project !== "object" || !("test" in project)) continue;
  if (project.test?.name === "int")
    project.test.include = [...(project.test.include ?? []), "e2e/**/*.int.test.ts"];
  if (project.test?.name === "unit")
    project.test.include = [...(project.test.include ?? []), "ui/src/**/*.test.ts", "ui/src/**/*.test.tsx"];
}

export default config;
