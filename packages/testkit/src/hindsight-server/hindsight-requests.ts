import { BodyReader } from "./http/request-validation.js";

export const BUDGETS = ["low", "mid", "high"] as const;
export type Budget = (typeof BUDGETS)[number];
export const TAG_MATCH_MODES = ["any", "all", "any_strict", "all_strict", "exact"] as const;
export type TagMatchMode = (typeof TAG_MATCH_MODES)[number];
const UPDATE_MODES = ["replace", "append"] as const;

/** `MemoryItem` of the OpenAPI spec, the fields this server acts on. */
export interface RetainItem {
  readonly content: string;
  readonly timestamp: string | undefined;
  readonly context: string | undefined;
  readonly metadata: Record<string, string> | undefined;
  readonly documentId: string | undefined;
  readonly entities: readonly string[];
  readonly tags: readonly string[];
  readonly updateMode: "replace" | "append";
}

export interface RetainRequest {
  readonly items: readonly RetainItem[];
  readonly async: boolean;
  readonly documentTags: readonly string[];
  /** Client-chosen id of the async operation (idempotent resubmission). */
  readonly operationId: string | undefined;
}

export interface TagFilter {
  readonly tags: readonly string[] | undefined;
  readonly match: TagMatchMode;
}

export interface RecallRequest {
  readonly query: string;
  readonly types: readonly string[] | undefined;
  readonly budget: Budget;
  readonly maxTokens: number;
  readonly queryTimestamp: string | undefined;
  readonly temporalWindow: { start: string; end: string } | undefined;
  readonly tagFilter: TagFilter;
}

export interface ReflectRequest {
  readonly query: string;
  readonly budget: Budget;
  readonly maxTokens: number;
  readonly types: readonly string[] | undefined;
  readonly includeFacts: boolean;
  readonly tagFilter: TagFilter;
}

function readDate(reader: BodyReader, field: string): string | undefined {
  const value = reader.string(field);
  if (value !== undefined && Number.isNaN(Date.parse(value))) {
    reader.fail(field, "datetime_from_date_parsing", "Input should be a valid datetime", value);
    return undefined;
  }
  return value;
}

/** Parses `RetainRequest`; throws a 422 listing every wrong field. */
export function parseRetainRequest(raw: unknown): RetainRequest {
  const reader = new BodyReader(raw);
  const items: RetainItem[] = [];
  for (const itemReader of reader.list("items", { required: true }) ?? []) {
    const content = itemReader.string("content", { required: true });
    const timestamp = itemReader.string("timestamp");
    const entityReaders = itemReader.list("entities") ?? [];
    const entities = entityReaders.map((entity) => entity.string("text", { required: true }) ?? "");
    for (const entity of entityReaders) itemReader.merge(entity);
    const item: RetainItem = {
      content: content ?? "",
      timestamp: timestamp === "unset" ? undefined : timestamp,
      context: itemReader.string("context"),
      metadata: itemReader.stringMap("metadata"),
      documentId: itemReader.string("document_id"),
      entities,
      tags: itemReader.stringList("tags") ?? [],
      updateMode: itemReader.literal("update_mode", UPDATE_MODES) ?? "replace",
    };
    reader.merge(itemReader);
    items.push(item);
  }
  const request = {
    items,
    async: reader.boolean("async") ?? false,
    documentTags: reader.stringList("document_tags") ?? [],
    operationId: reader.string("operation_id"),
  };
  reader.done();
  return request;
}

function readTagFilter(reader: BodyReader): TagFilter {
  return { tags: reader.stringList("tags"), match: reader.literal("tags_match", TAG_MATCH_MODES) ?? "any" };
}

/** Parses `RecallRequest`; throws a 422 listing every wrong field. */
export function parseRecallRequest(raw: unknown): RecallRequest {
  const reader = new BodyReader(raw);
  const windowReader = reader.object("temporal_window");
  let temporalWindow: { start: string; end: string } | undefined;
  if (windowReader) {
    const start = windowReader.string("start", { required: true });
    const end = windowReader.string("end", { required: true });
    reader.merge(windowReader);
    if (start !== undefined && end !== undefined) temporalWindow = { start, end };
  }
  const request: RecallRequest = {
    query: reader.string("query", { required: true }) ?? "",
    types: reader.stringList("types"),
    budget: reader.literal("budget", BUDGETS) ?? "mid",
    maxTokens: reader.integer("max_tokens") ?? 4096,
    queryTimestamp: readDate(reader, "query_timestamp"),
    temporalWindow,
    tagFilter: readTagFilter(reader),
  };
  reader.boolean("trace");
  reader.done();
  return request;
}

/** Parses `ReflectRequest`; throws a 422 listing every wrong field. */
export function parseReflectRequest(raw: unknown): ReflectRequest {
  const reader = new BodyReader(raw);
  const include = reader.object("include");
  const request: ReflectRequest = {
    query: reader.string("query", { required: true }) ?? "",
    budget: reader.literal("budget", BUDGETS) ?? "low",
    maxTokens: reader.integer("max_tokens") ?? 4096,
    types: reader.stringList("fact_types"),
    includeFacts: include !== undefined && include.body.facts !== undefined && include.body.facts !== null,
    tagFilter: readTagFilter(reader),
  };
  if (include) reader.merge(include);
  reader.done();
  return request;
}
