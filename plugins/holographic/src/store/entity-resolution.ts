import { entityKey } from "../extraction/entity-name.js";
import { extractEntities } from "../extraction/extract-entities.js";

/** Where one entity key of a plan points: an entity the index knows, or one this plan creates. */
export type EntityRef = { readonly id: number } | { readonly newKey: string };

/**
 * The entity changes one write needs: entities to create, aliases to record, and per text the entities
 * it links to (canonical keys, aliases resolved). Built against what the index already knows plus what
 * earlier texts of the same batch planned, so a batch never creates one entity twice.
 */
export class EntityPlan {
  /** key → name of entities to create. */
  readonly newEntities = new Map<string, string>();
  /** alias key → { alias, target } of aliases to record. */
  readonly newAliases = new Map<string, { alias: string; target: EntityRef }>();

  constructor(private readonly known: ReadonlyMap<string, number>) {}

  private lookup(key: string): EntityRef | undefined {
    const id = this.known.get(key);
    if (id !== undefined) return { id };
    if (this.newEntities.has(key)) return { newKey: key };
    return this.newAliases.get(key)?.target;
  }

  private create(name: string): EntityRef {
    const key = entityKey(name);
    this.newEntities.set(key, name);
    return { newKey: key };
  }

  /** Plans the entities of `text` and returns the refs it links to (deduplicated, first-seen order). */
  planText(text: string): EntityRef[] {
    const { entities, aliases } = extractEntities(text);
    for (const { name, alias } of aliases) {
      const nameKey = entityKey(name);
      const aliasKey = entityKey(alias);
      if (nameKey === aliasKey) continue;
      const nameRef = this.lookup(nameKey);
      const aliasRef = this.lookup(aliasKey);
      if (nameRef && !aliasRef) this.newAliases.set(aliasKey, { alias, target: nameRef });
      else if (!nameRef && aliasRef) this.newAliases.set(nameKey, { alias: name, target: aliasRef });
      else if (!nameRef && !aliasRef) this.newAliases.set(aliasKey, { alias, target: this.create(name) });
      // Both known: two entities already exist; merging them is not an extraction decision.
    }
    const refs: EntityRef[] = [];
    const seen = new Set<string>();
    for (const name of entities) {
      const ref = this.lookup(entityKey(name)) ?? this.create(name);
      const id = "id" in ref ? `#${ref.id}` : ref.newKey;
      if (seen.has(id)) continue;
      seen.add(id);
      refs.push(ref);
    }
    return refs;
  }
}
