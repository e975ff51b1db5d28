import { InvalidArgumentError, type JsonObject, type JsonValue, type ToolSchema } from "@engram/core";
import type { Contradiction, Fact, ScoredFact } from "../store/types.js";

export const FACT_STORE_TOOL = "fact_store";
export const FACT_FEEDBACK_TOOL = "fact_feedback";

export const FACT_STORE_ACTIONS = [
  "add",
  "search",
  "probe",
  "related",
  "reason",
  "contradict",
  "update",
  "remove",
  "list",
] as const;
export type FactStoreAction = (typeof FACT_STORE_ACTIONS)[number];

const factStoreSchema: ToolSchema = {
  name: FACT_STORE_TOOL,
  description:
    "Long-term fact memory with entity resolution and trust scores. Actions: add (store a durable fact), " +
    "search (keyword + similarity), probe (facts about one entity), related (facts connected to an entity), " +
    "reason (facts involving all given entities), contradict (facts about the same entities that disagree), " +
    "update, remove, list (by trust).",
  parameters: {
    type: "object",
    properties: {
      action: { type: "string", enum: [...FACT_STORE_ACTIONS] },
      content: { type: "string", description: "Fact text (add, update)." },
      query: { type: "string", description: "Search text (search)." },
      entity: { type: "string", description: "Entity name or alias (probe, related)." },
      entities: { type: "array", items: { type: "string" }, description: "Entity names (reason)." },
      fact_id: { type: "integer", minimum: 1, description: "Fact id (update, remove)." },
      category: { type: "string", description: "Category, e.g. user_pref, project, tool, general." },
      tags: { type: "string", description: "Comma-separated tags (add, update)." },
      trust_delta: { type: "number", description: "Added to the trust score (update)." },
      min_trust: {
        type: "number",
        minimum: 0,
        maximum: 1,
        description: "Lowest trust returned (search, list).",
      },
      limit: { type: "integer", minimum: 1, maximum: 100, description: "Maximum results." },
    },
    required: ["action"],
    additionalProperties: false,
  },
};

const factFeedbackSchema: ToolSchema = {
  name: FACT_FEEDBACK_TOOL,
  description:
    "Rate a fact you used: helpful raises its trust by 0.05, unhelpful lowers it by 0.10, so reliable facts rank higher.",
  parameters: {
    type: "object",
    properties: {
      action: { type: "string", enum: ["helpful", "unhelpful"] },
      fact_id: { type: "integer", minimum: 1 },
    },
    required: ["action", "fact_id"],
    additionalProperties: false,
  },
};

/** The two tools the provider offers, in OpenAI function-calling shape. */
export const FACT_TOOL_SCHEMAS: readonly ToolSchema[] = Object.freeze([factStoreSchema, factFeedbackSchema]);

// ---- argument readers: each throws INVALID_ARGUMENT naming the argument and the rule ----------------

export function requireString(args: JsonObject, name: string): string {
  const value = args[name];
  if (typeof value !== "string" || value.trim() === "") {
    throw new InvalidArgumentError(name, value === undefined ? "is required" : "must be a non-empty string");
  }
  return value;
}

export function optionalString(args: JsonObject, name: string): string | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new InvalidArgumentError(name, "must be a string");
  return value;
}

export function optionalNumber(
  args: JsonObject,
  name: string,
  min = -Infinity,
  max = Infinity,
): number | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `must be a number from ${min} to ${max}`);
  }
  return value;
}

export function requireInteger(args: JsonObject, name: string, min: number, max: number): number {
  const value = args[name];
  if (value === undefined || value === null) throw new InvalidArgumentError(name, "is required");
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function optionalInteger(
  args: JsonObject,
  name: string,
  min: number,
  max: number,
): number | undefined {
  return args[name] === undefined || args[name] === null ? undefined : requireInteger(args, name, min, max);
}

export function requireStringArray(args: JsonObject, name: string): string[] {
  const value = args[name];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((item) => typeof item !== "string" || !item.trim())
  ) {
    throw new InvalidArgumentError(name, "must be a non-empty array of non-empty strings");
  }
  return value as string[];
}

export function requireAction<T extends string>(args: JsonObject, allowed: readonly T[]): T {
  const value = args.action;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError("action", `must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

// ---- results ----------------------------------------------------------------------------------------

/** A fact as the model sees it (snake_case, ISO timestamps). */
export function factJson(fact: Fact | ScoredFact): JsonObject {
  return {
    fact_id: fact.id,
    content: fact.content,
    category: fact.category,
    tags: fact.tags,
    trust_score: fact.trust,
    retrieval_count: fact.retrievalCount,
    helpful_count: fact.helpfulCount,
    entities: [...fact.entities],
    created_at: fact.createdAt.toISOString(),
    updated_at: fact.updatedAt.toISOString(),
    ...("score" in fact ? { score: Math.round(fact.score * 1e4) / 1e4 } : {}),
  };
}

export function factsJson(facts: readonly (Fact | ScoredFact)[]): JsonValue {
  return { count: facts.length, facts: facts.map(factJson) };
}

export function contradictionsJson(found: readonly Contradiction[]): JsonValue {
  return {
    count: found.length,
    contradictions: found.map((item) => ({
      fact_a: factJson(item.factA),
      fact_b: factJson(item.factB),
      entity_overlap: Math.round(item.entityOverlap * 1e3) / 1e3,
      content_similarity: Math.round(item.contentSimilarity * 1e3) / 1e3,
      contradiction_score: Math.round(item.score * 1e3) / 1e3,
      shared_entities: [...item.sharedEntities],
    })),
  };
}
