import { InvalidArgumentError } from "@engram/core";
import { AtomCache } from "./atom.js";
import { bind } from "./bind.js";
import {
  COS_TABLE,
  DEFAULT_DIM,
  fastAtan2,
  PHASE_MASK,
  PHASE_STEPS,
  type PhaseVector,
  SIN_TABLE,
} from "./phase-vector.js";

const STEPS_PER_RADIAN = PHASE_STEPS / (2 * Math.PI);

/** Role atom names; the fact encoding binds content and entities to these. Fixed forever. */
export const ROLE_CONTENT = "__hrr_role_content__";
export const ROLE_ENTITY = "__hrr_role_entity__";
/** Atom an empty text encodes to. */
export const EMPTY_TEXT = "__hrr_empty__";

const EDGE_PUNCTUATION = /^[.,!?;:"'()[\]{}]+|[.,!?;:"'()[\]{}]+$/g;

/** Lowercased whitespace tokens with edge punctuation stripped: the bag of words `encodeText` bundles. */
export function hrrTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const raw of text.toLowerCase().split(/\s+/)) {
    const token = raw.replace(EDGE_PUNCTUATION, "");
    if (token) tokens.push(token);
  }
  return tokens;
}

export interface HrrEncoderProps {
  /** Vector dimension; default 1024. */
  readonly dim?: number;
  /** Atoms kept in the LRU cache; default 16384 (see {@link AtomCache}). */
  readonly atomCacheSize?: number;
}

/**
 * Encodes text and facts into phase vectors of one dimension. Holds the atom cache, the role atoms and
 * a scratch accumulator, so encoding allocates only the result (or nothing, when `out` is given).
 * Not safe to share across worker threads; cheap to create one per store.
 */
export class HrrEncoder {
  readonly dim: number;
  readonly atoms: AtomCache;
  readonly roleContent: PhaseVector;
  readonly roleEntity: PhaseVector;

  // Reused lists of the atoms of one encoding.
  private readonly tokenAtoms: PhaseVector[] = [];
  private readonly entityAtoms: PhaseVector[] = [];

  constructor(props: HrrEncoderProps = {}) {
    const dim = props.dim ?? DEFAULT_DIM;
    if (!Number.isInteger(dim) || dim < 1)
      throw new InvalidArgumentError("dim", `${dim} must be a positive integer`);
    this.dim = dim;
    this.atoms = new AtomCache(dim, props.atomCacheSize);
    // Held here, not only in the cache: the roles are used by every encoding and must never be evicted.
    this.roleContent = this.atoms.get(ROLE_CONTENT);
    this.roleEntity = this.atoms.get(ROLE_ENTITY);
  }

  /** The atom of `word` (shared with the cache: never write to it). */
  atom(word: string): PhaseVector {
    return this.atoms.get(word);
  }

  /** The atom of an entity name: names are case-insensitive, so the atom is of the lowercased name. */
  entityAtom(name: string): PhaseVector {
    return this.atoms.get(name.toLowerCase());
  }

  /** Bag-of-words bundle of the token atoms of `text`; empty text encodes to the `__hrr_empty__` atom. */
  encodeText(text: string, out: PhaseVector = new Uint16Array(this.dim)): PhaseVector {
    const tokens = hrrTokens(text);
    if (tokens.length === 0) {
      out.set(this.atoms.get(EMPTY_TEXT));
      return out;
    }
    const atoms = this.gather(tokens, this.tokenAtoms);
    const n = atoms.length;
    const cos = COS_TABLE;
    const sin = SIN_TABLE;
    for (let i = 0; i < this.dim; i++) {
      let x = 0;
      let y = 0;
      for (let t = 0; t < n; t++) {
        const c = atoms[t]![i]!;
        x += cos[c]!;
        y += sin[c]!;
      }
      out[i] = Math.round(fastAtan2(y, x) * STEPS_PER_RADIAN) & PHASE_MASK;
    }
    return out;
  }

  /**
   * `bundle(bind(text, ROLE_CONTENT), bind(entity₁, ROLE_ENTITY), …)`. Similarity of the result to
   * `entityKey(e)` measures how strongly `e` fills the entity role, and to `contentKey(word)` how
   * strongly `word` is part of the content.
   *
   * One pass over the dimensions: per element it sums the token phasors, normalises them to the text's
   * circular mean, rotates that by the content role, adds each entity phasor rotated by the entity
   * role and takes the angle. No intermediate vectors, and the text mean is never quantised.
   */
  encodeFact(
    content: string,
    entities: readonly string[],
    out: PhaseVector = new Uint16Array(this.dim),
  ): PhaseVector {
    const tokens = hrrTokens(content);
    if (tokens.length === 0) tokens.push(EMPTY_TEXT);
    const text = this.gather(tokens, this.tokenAtoms);
    const ents = this.gather(
      entities.map((entity) => entity.toLowerCase()),
      this.entityAtoms,
    );
    const nt = text.length;
    const ne = ents.length;
    const cos = COS_TABLE;
    const sin = SIN_TABLE;
    const roleContent = this.roleContent;
    const roleEntity = this.roleEntity;
    for (let i = 0; i < this.dim; i++) {
      let x = 0;
      let y = 0;
      for (let t = 0; t < nt; t++) {
        const c = text[t]![i]!;
        x += cos[c]!;
        y += sin[c]!;
      }
      const squared = x * x + y * y;
      // A zero sum has no mean angle; like toPhaseVector, treat it as angle 0.
      const inverse = squared === 0 ? 0 : 1 / Math.sqrt(squared);
      const u = squared === 0 ? 1 : x * inverse;
      const v = y * inverse;
      const rc = cos[roleContent[i]!]!;
      const rs = sin[roleContent[i]!]!;
      let fx = u * rc - v * rs;
      let fy = u * rs + v * rc;
      const role = roleEntity[i]!;
      for (let e = 0; e < ne; e++) {
        const c = (ents[e]![i]! + role) & PHASE_MASK;
        fx += cos[c]!;
        fy += sin[c]!;
      }
      out[i] = Math.round(fastAtan2(fy, fx) * STEPS_PER_RADIAN) & PHASE_MASK;
    }
    return out;
  }

  /** Looks up the atoms of `words` into a reused list (no per-call allocation once grown). */
  private gather(words: readonly string[], into: PhaseVector[]): PhaseVector[] {
    into.length = words.length;
    for (let t = 0; t < words.length; t++) into[t] = this.atoms.get(words[t]!);
    return into;
  }

  /** `bind(atom(entity), ROLE_ENTITY)`: the probe key for "facts where this entity plays the entity role". */
  entityKey(entity: string, out: PhaseVector = new Uint16Array(this.dim)): PhaseVector {
    return bind(this.entityAtom(entity), this.roleEntity, out);
  }

  /** `bind(atom(word), ROLE_CONTENT)`: the key for "facts whose content contains this word". */
  contentKey(word: string, out: PhaseVector = new Uint16Array(this.dim)): PhaseVector {
    return bind(this.entityAtom(word), this.roleContent, out);
  }
}

const sharedEncoders = new Map<number, HrrEncoder>();

/**
 * The process-wide encoder of dimension `dim`, built on first use. Atoms are a pure function of the
 * word and the dimension, so every store of one dimension can share one atom cache: a cache per
 * store (up to 2·dim bytes × its entries, 32 MiB at the defaults) multiplied by the open scopes.
 * Safe to share on one thread: every encoding is synchronous, so the scratch lists are never
 * interleaved.
 */
export function sharedHrrEncoder(dim: number = DEFAULT_DIM): HrrEncoder {
  let encoder = sharedEncoders.get(dim);
  if (encoder === undefined) {
    encoder = new HrrEncoder({ dim });
    sharedEncoders.set(dim, encoder);
  }
  return encoder;
}
