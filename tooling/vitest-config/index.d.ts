import type { UserConfig } from "vitest/config";

export interface EngramVitestConfigProps {
  /** Test and hook timeout of the `int` project, in ms. */
  intTimeoutMs?: number;
}
export declare function engramVitestConfig(props?: EngramVitestConfigProps): UserConfig;
