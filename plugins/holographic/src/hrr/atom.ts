import { createHash } from "node:crypto";
import { InvalidArgumentError } from "@engram/core";
import type { PhaseVector } from "./phase-vector.js";

/** Codes one SHA-256 digest yields (32 bytes = 16 little-endian uint16). */
const CODES_PER_BLOCK = 16;

/**
 * The deterministic atom for `word`: SHA-256 counter blocks of `"<word>:<i>"`, each read as 16
 * little-endian uint16 phase codes. Identical on every machine and run (and to Hermes' atoms, whose
 * angle is `code · 2π / 65536`). Allocates a fresh vector; use {@link AtomCache} on hot paths.
 */
export function encodeAtom(word: string, dim: number): PhaseVector {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new InvalidArgumentError("dim", `${dim} must be a positive integer`);
  }
  const out = new Uint16Array(dim);
  const blocks = Math.ceil(dim / CODES_PER_BLOCK);
  for (let block = 0; block < blocks; block++) {
    const digest = createHash("sha256").update(`${word}:${block}`).digest();
    const base = block * CODES_PER_BLOCK;
    const n = Math.min(CODES_PER_BLOCK, dim - base);
    for (let j = 0; j < n; j++) out[base + j] = digest.readUInt16LE(j * 2);
  }
  return out;
}

/**
 * A bounded least-recently-used cache of atoms for one dimension. Vocabulary repeats across facts and
 * queries, and an atom costs dim/16 SHA-256 digests, so encoders keep one of these.
 *
 * Returned vectors are shared with the cache: callers must never write to them.
 */
export class AtomCache {
  readonly dim: number;
  readonly maxEntries: number;
  private readonly entries = new Map<string, PhaseVector>();
  hits = 0;
  misses = 0;

  constructor(dim: number, maxEntries = 8192) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new InvalidArgumentError("maxEntries", `${maxEntries} must be a positive integer`);
    }
    this.dim = dim;
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  get(word: string): PhaseVector {
    const hit = this.entries.get(word);
    if (hit) {
      this.hits++;
      // Map iteration order is insertion order: re-inserting marks the entry most recently used.
      this.entries.delete(word);
      this.entries.set(word, hit);
      return hit;
    }
    this.misses++;
    const atom = encodeAtom(word, this.dim);
    this.entries.set(word, atom);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return atom;
  }

  clear(): void {
    this.entries.clear();
    this.hits = 0;
    this.misses = 0;
  }
}
