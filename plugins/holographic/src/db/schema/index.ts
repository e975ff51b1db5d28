import type { PartialDB as Banks } from "./holographic-banks.js";
import type { PartialDB as Entities } from "./holographic-entities.js";
import type { PartialDB as EntityAliases } from "./holographic-entity-aliases.js";
import type { PartialDB as FactEntities } from "./holographic-fact-entities.js";
import type { PartialDB as Facts } from "./holographic-facts.js";

export type { HolographicBankTable } from "./holographic-banks.js";
export type { HolographicEntityTable } from "./holographic-entities.js";
export type { HolographicEntityAliasTable } from "./holographic-entity-aliases.js";
export type { HolographicFactEntityTable } from "./holographic-fact-entities.js";
export type { HolographicFactTable } from "./holographic-facts.js";

/** The tables this plugin owns; it never reads another package's tables. */
export type HolographicDB = Facts & Entities & EntityAliases & FactEntities & Banks;
