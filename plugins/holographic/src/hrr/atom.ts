import { createHash } from "node:crypto";
import { InvalidArgumentError } from "@engram/core";
import type { PhaseVector } from "./phase-vector.js";

/**
 * The deterministic atom for `word`: SHA-256 of the UTF-8 word seeds a xoshiro128** generator whose
 * outputs, two uint16 phase codes per 32-bit draw, fill the vector. Identical on every machine and run,
 * quasi-orthogonal across words, and one digest per atom instead of one per 16 codes (an atom of a new
 * word costs microseconds, which keeps adding facts with novel vocabulary fast). Allocates a fresh
 * vector; use {@link AtomCache} on hot paths.
 */
export function encodeAtom(word: string, dim: number): PhaseVector {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new InvalidArgumentError("dim", `${dim} must be a positive integer`);
  }
  const digest = createHash("sha256").update(word, "utf8").digest();
  // xoshiro128** state from the first 16 digest bytes; the last 16 are folded in so every bit counts.
  let s0 = (digest.readUInt32LE(0) ^ digest.readUInt32LE(16)) >>> 0;
  let s1 = (digest.readUInt32LE(4) ^ digest.readUInt32LE(20)) >>> 0;
  let s2 = (digest.readUInt32LE(8) ^ digest.readUInt32LE(24)) >>> 0;
  let s3 = (digest.readUInt32LE(12) ^ digest.readUInt32LE(28)) >>> 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 0x9e3779b9; // the all-zero state never leaves zero
  const out = new Uint16Array(dim);
  for (let i = 0; i < dim; i += 2) {
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    out[i] = result & 0xffff;
    if (i + 1 < dim) out[i + 1] = result >>> 16;
  }
  return out;
}

/**
 * A bounded cache of atoms for one dimension, approximately least-recently-used: two generations, where
 * a hit in the older one promotes the atom and a full young generation retires the old one wholesale.
 * Vocabulary repeats across facts and queries and an atom costs a digest and a generator run, so
 * encoders keep one of these; a hit is one or two `Map` lookups (an exact LRU's delete-and-reinsert per
 * hit costs more than the lookup itself).
 *
 * Returned atoms are shared with the cache: callers must never write to them.
 */
export class AtomCache {
  readonly dim: number;
  readonly maxEntries: number;
  private young = new Map<string, PhaseVector>();
  private old = new Map<string, PhaseVector>();
  hits = 0;
  misses = 0;

  /** Each entry holds 2 bytes per dimension: 32 MiB at the defaults. */
  constructor(dim: number, maxEntries = 16_384) {
    if (!Number.isInteger(maxEntries) || maxEntries < 2) {
      throw new InvalidArgumentError("maxEntries", `${maxEntries} must be an integer >= 2`);
    }
    this.dim = dim;
    this.maxEntries = maxEntries;
  }

  /** Atoms held (at most `maxEntries`). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The atom of `word`. */
  get(word: string): PhaseVector {
    const young = this.young.get(word);
    if (young) {
      this.hits++;
      return young;
    }
    const old = this.old.get(word);
    if (old) {
      this.hits++;
      this.old.delete(word);
      this.remember(word, old);
      return old;
    }
    this.misses++;
    const atom = encodeAtom(word, this.dim);
    this.remember(word, atom);
    return atom;
  }

  private remember(word: string, atom: PhaseVector): void {
    if (this.young.size >= this.maxEntries >> 1) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(word, atom);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
    this.hits = 0;
    this.misses = 0;
  }
}
