import type { PartialDB as Instances } from "./gateway-instances.js";
import type { PartialDB as InterruptedKeys } from "./gateway-interrupted-keys.js";

export type { GatewayInstanceTable } from "./gateway-instances.js";
export type { GatewayInterruptedKeyTable } from "./gateway-interrupted-keys.js";

/** The session runtime's own tables (restart state); it reads `@engram/store`'s through its ports. */
export type SessionsDB = Instances & InterruptedKeys;
