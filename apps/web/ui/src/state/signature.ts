/**
 * Seed 004's change detection for polled transcripts: an FNV-1a (32-bit) hash over role + timestamp +
 * content of every message, so the view re-renders only when something it shows changed.
 */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export interface SignedMessage {
  readonly role: string;
  readonly createdAt: number;
  readonly content: string | null;
}

export function transcriptSignature(messages: readonly SignedMessage[]): string {
  let hash = 0x811c9dc5;
  for (const m of messages) {
    // A separator no message text can produce keeps ("ab","c") and ("a","bc") apart.
    hash = fnv1a(`${m.role}\u0000${m.createdAt}\u0000${m.content ?? ""}\u0001`, hash);
  }
  return `${messages.length}:${hash.toString(16)}`;
}
