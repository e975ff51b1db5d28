import type { PartialDB as Instances } from "./gateway-instances.js";
import type { PartialDB as InterruptedKeys } from "./gateway-interrupted-keys.js";
import type { PartialDB as SessionCommits } from "./session-commits.js";

export type { GatewayInstanceTable } from "./gateway-instances.js";
export type { GatewayInterruptedKeyTable } from "./gateway-interrupted-keys.js";
export type { SessionCommitTable } from "./session-commits.js";

/** The session runtime's own tables (restart state, commit times); it reads `@engram/store`'s through its ports. */
export type SessionsDB = Instances & InterruptedKeys & SessionCommits;
