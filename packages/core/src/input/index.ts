/**
 * Rules for values entering from outside (HTTP bodies, queries, webhooks) that every boundary applies
 * the same way: what text the store can hold, and which timestamps are in range.
 */
export * from "./epoch-ms.js";
export * from "./storable-text.js";
