import { ContentTooLargeError, InvalidArgumentError } from "@engram/core";

/** Largest fact content accepted, in UTF-8 bytes. */
export const MAX_FACT_BYTES = 16 * 1024;
/** Largest category name, in characters. */
export const MAX_CATEGORY_CHARS = 64;
/** Query terms sent to full-text search at most. */
export const MAX_QUERY_TERMS = 32;

export function assertLimit(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new InvalidArgumentError(name, `${value} must be an integer from 1 to 1000`);
  }
  return value;
}

export function assertTrustBound(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidArgumentError(name, `${value} must be a number from 0 to 1`);
  }
  return value;
}

export function normalizeCategory(category: string | undefined): string {
  const value = (category ?? "general").trim();
  if (!value || value.length > MAX_CATEGORY_CHARS) {
    throw new InvalidArgumentError("category", `must be 1 to ${MAX_CATEGORY_CHARS} characters`);
  }
  return value;
}

export function normalizeContent(content: unknown): string {
  if (typeof content !== "string") throw new InvalidArgumentError("content", "must be a string");
  const value = content.trim();
  if (!value) throw new InvalidArgumentError("content", "must not be empty");
  const bytes = Buffer.byteLength(value);
  if (bytes > MAX_FACT_BYTES) throw new ContentTooLargeError("fact content", bytes, MAX_FACT_BYTES);
  return value;
}

export function normalizeTags(tags: unknown): string {
  if (tags === undefined) return "";
  if (typeof tags !== "string") throw new InvalidArgumentError("tags", "must be a string");
  return tags.trim();
}

/** The OR-joined `to_tsquery` text of a natural-language query: word runs only, so nothing needs escaping. */
export function fullTextQuery(query: string): string {
  const terms = new Set<string>();
  for (const term of query.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []) {
    terms.add(term);
    if (terms.size === MAX_QUERY_TERMS) break;
  }
  return [...terms].join(" | ");
}
