import { InvalidArgumentError } from "@engram/core";
import { AtomCache } from "./atom.js";
import { bind } from "./bind.js";
import { PhaseAccumulator } from "./phase-accumulator.js";
import { DEFAULT_DIM, type PhaseVector } from "./phase-vector.js";

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
  /** Atoms kept in the LRU cache; default 8192. */
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
  private readonly scratch: PhaseAccumulator;
  private readonly textScratch: PhaseAccumulator;

  constructor(props: HrrEncoderProps = {}) {
    const dim = props.dim ?? DEFAULT_DIM;
    if (!Number.isInteger(dim) || dim < 1)
      throw new InvalidArgumentError("dim", `${dim} must be a positive integer`);
    this.dim = dim;
    this.atoms = new AtomCache(dim, props.atomCacheSize);
    this.roleContent = this.atoms.get(ROLE_CONTENT);
    this.roleEntity = this.atoms.get(ROLE_ENTITY);
    this.scratch = new PhaseAccumulator(dim);
    this.textScratch = new PhaseAccumulator(dim);
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
    const accumulator = this.scratch.reset();
    for (const token of tokens) accumulator.add(this.atoms.get(token));
    return accumulator.toPhaseVector(out);
  }

  /**
   * `bundle(bind(text, ROLE_CONTENT), bind(entity₁, ROLE_ENTITY), …)`. Similarity of the result to
   * `entityKey(e)` measures how strongly `e` fills the entity role, and to `contentKey(word)` how
   * strongly `word` is part of the content.
   */
  encodeFact(
    content: string,
    entities: readonly string[],
    out: PhaseVector = new Uint16Array(this.dim),
  ): PhaseVector {
    const accumulator = this.scratch.reset();
    const tokens = hrrTokens(content);
    if (tokens.length === 0) {
      accumulator.addBound(this.atoms.get(EMPTY_TEXT), this.roleContent);
    } else {
      // The text's circular mean is bound to the content role straight from its phasor sums.
      const text = this.textScratch.reset();
      for (const token of tokens) text.add(this.atoms.get(token));
      accumulator.addNormalizedBound(text, this.roleContent);
    }
    for (const entity of entities) accumulator.addBound(this.entityAtom(entity), this.roleEntity);
    return accumulator.toPhaseVector(out);
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
