/**
 * Session buffer (seed 001): per-session message buffers on a server, committed in two phases to
 * archives (overview + abstract fused with the previous archive), with extraction bookkeeping,
 * compaction prepare tokens, durable session state, archive merging, idle eviction and context
 * assembly. `SessionBufferManager` is the entry point; storage goes through the `ArchiveStore` and
 * `SessionStateStore` ports; compression and extraction through pluggable interfaces.
 */
export * from "./archive-id.js";
export * from "./archive-merger.js";
export * from "./archive-store-unavailable-error.js";
export type * from "./commit-task.js";
export * from "./in-memory-session-state-store.js";
export * from "./memory-extractor.js";
export * from "./session-buffer.js";
export * from "./session-buffer-manager.js";
export * from "./session-compressor.js";
export * from "./session-message.js";
export * from "./session-state.js";
export * from "./session-state-store.js";
export * from "./session-window-state.js";
