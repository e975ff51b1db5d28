/**
 * The subset of Hindsight's HTTP API (OpenAPI 0.9.x, `hindsight-docs/static/openapi.json`) the
 * provider speaks, in wire spelling. Optional response fields are typed as the spec allows (`null`).
 */

export type Budget = "low" | "mid" | "high";
export type TagsMatch = "any" | "all" | "any_strict" | "all_strict" | "exact";
export type UpdateMode = "replace" | "append";

/** `GET /version` */
export interface VersionResponse {
  api_version: string;
  features?: Record<string, boolean>;
}

/** `MemoryItem` */
export interface MemoryItem {
  content: string;
  timestamp?: string;
  context?: string;
  metadata?: Record<string, string>;
  document_id?: string;
  tags?: string[];
  update_mode?: UpdateMode;
}

/** `POST /v1/default/banks/{bank_id}/memories` */
export interface RetainRequest {
  items: MemoryItem[];
  async?: boolean;
  /** Client-chosen UUID of an async retain: resubmitting it creates no new work (safe retries). */
  operation_id?: string;
}

export interface RetainResponse {
  success: boolean;
  bank_id: string;
  items_count: number;
  async: boolean;
  operation_id?: string | null;
}

/** `POST /v1/default/banks/{bank_id}/memories/recall` */
export interface RecallRequest {
  query: string;
  types?: string[];
  budget?: Budget;
  max_tokens?: number;
  query_timestamp?: string;
  tags?: string[];
  tags_match?: TagsMatch;
}

export interface RecallResult {
  id: string;
  text: string;
  type?: string | null;
  entities?: string[] | null;
  context?: string | null;
  occurred_start?: string | null;
  occurred_end?: string | null;
  mentioned_at?: string | null;
  document_id?: string | null;
  tags?: string[] | null;
}

export interface RecallResponse {
  results: RecallResult[];
}

/** `POST /v1/default/banks/{bank_id}/reflect` */
export interface ReflectRequest {
  query: string;
  budget?: Budget;
  max_tokens?: number;
  include?: { facts?: Record<string, never> | null };
  tags?: string[];
  tags_match?: TagsMatch;
}

export interface ReflectFact {
  id?: string | null;
  text: string;
  type?: string | null;
}

export interface ReflectResponse {
  text: string;
  based_on?: { memories?: ReflectFact[] } | null;
}

/** One item of `GET /v1/default/banks/{bank_id}/memories/list` (`ListMemoryUnitsResponse`). */
export interface MemoryUnit {
  id: string;
  text: string;
  context?: string | null;
  date?: string | null;
  fact_type?: string | null;
  mentioned_at?: string | null;
  occurred_start?: string | null;
  occurred_end?: string | null;
  tags?: string[] | null;
  document_id?: string | null;
}

export interface ListMemoryUnitsResponse {
  items: MemoryUnit[];
  total: number;
  limit: number;
  offset: number;
}

/** `PATCH /v1/default/banks/{bank_id}/memories/{memory_id}` (fields this client sends) */
export interface UpdateMemoryRequest {
  /** New fact text: Hindsight re-embeds it and re-derives its observations. */
  text?: string;
  context?: string;
}

/** `DELETE /v1/default/banks/{bank_id}/documents/{document_id}` */
export interface DeleteDocumentResponse {
  success: boolean;
  document_id?: string;
  memory_units_deleted?: number;
}

/** `GET /v1/default/banks/{bank_id}/operations/{operation_id}` */
export type OperationStatus = "pending" | "processing" | "completed" | "failed" | "cancelled" | "not_found";

export interface OperationStatusResponse {
  operation_id: string;
  status: OperationStatus;
  error_message?: string | null;
}

/** Statuses after which an operation will not change any more; `not_found` counts as done. */
export const FINISHED_OPERATION_STATUSES: ReadonlySet<OperationStatus> = new Set([
  "completed",
  "failed",
  "cancelled",
  "not_found",
]);
