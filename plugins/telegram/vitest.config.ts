import { engramVitestConfig } from "@engram/vitest-config";

export default engramVitestConfig();
