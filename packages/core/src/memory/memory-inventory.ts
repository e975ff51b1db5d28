import type { MemoryProvider } from "./memory-provider.js";

/** One thing a provider remembers, as a person browsing their memory sees it. */
export interface RememberedFact {
  /** The provider's id for it, stable while it exists; what {@link MemoryInventory.deleteMemory} takes. */
  readonly id: string;
  readonly content: string;
  readonly category?: string | null;
  /** In [0, 1] where the provider scores trust. */
  readonly trust?: number | null;
  /** The session it was learned in, where the provider records it. */
  readonly sourceSessionId?: string | null;
  /** Epoch milliseconds. */
  readonly createdAt?: number | null;
  readonly updatedAt?: number | null;
}

export interface ListMemoriesOptions {
  /** Only facts matching this text (the provider's own search); absent: everything, best first. */
  readonly query?: string;
  /** At most this many (default and cap are the provider's; hosts ask for at most 500). */
  readonly limit?: number;
}

/**
 * Optional capabilities a {@link MemoryProvider} offers so a person can see and govern what it
 * remembers. A provider declares them by implementing the methods; hosts test with
 * {@link isMemoryInventory} and hide listing or deleting for providers without them. They act on the
 * memory scope the provider was initialised with, never another one.
 *
 * Implementers must keep: `listMemories` has no side effects on recall (no retrieval counts, no trust
 * changes); `deleteMemory` removes the fact for good (it is never recalled again) and answers `false`
 * for an id it does not hold (including one that is not its id format); `updateMemory`, when offered,
 * answers `undefined` for an unknown id.
 * @remarks Beta
 */
export interface MemoryInventory {
  listMemories(options?: ListMemoriesOptions): Promise<RememberedFact[]>;
  deleteMemory(id: string): Promise<boolean>;
  updateMemory?(id: string, content: string): Promise<RememberedFact | undefined>;
}

/** Whether `provider` lets a person list and delete what it remembers. */
export function isMemoryInventory(provider: MemoryProvider): provider is MemoryProvider & MemoryInventory {
  const candidate = provider as Partial<MemoryInventory>;
  return typeof candidate.listMemories === "function" && typeof candidate.deleteMemory === "function";
}
