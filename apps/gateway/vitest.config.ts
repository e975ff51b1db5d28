import { engramVitestConfig } from "@engram/vitest-config";

const config = engramVitestConfig();
// Composition code loads tsyringe, which needs the metadata polyfill first: the executables import it
// at the top of main.ts, tests get it here.
config.test = { ...config.test, setupFiles: ["reflect-metadata"] };

// The end-to-end suite (e2e/) drives the built executable against real databases: it joins the `int`
// project, so it runs with `pnpm test`, one file at a time like every other integration file.
for (const project of config.test?.projects ?? []) {
  if (typeof project !== "object" || !("test" in project) || project.test?.name !== "int") continue;
  project.test.include = [...(project.test.include ?? []), "e2e/**/*.int.test.ts"];
}

export default config;
