import { engramVitestConfig } from "@engram/vitest-config";

const config = engramVitestConfig();
// @engram/sessions loads tsyringe, which needs the metadata polyfill first.
config.test = { ...config.test, setupFiles: ["reflect-metadata"] };

export default config;
