import type { ColumnType, Generated } from "kysely";

/** One bank; created on first use, as the real server does. */
export interface HindsightBankTable {
  bank_id: string;
  created_at: Generated<Date>;
  name: string | null;
  mission: string | null;
  background: string | null;
  disposition: ColumnType<BankDisposition, string | undefined, string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A bank's disposition traits, 1 to 5 each (Hindsight's defaults are 3). */
export interface BankDisposition {
  skepticism: number;
  literalism: number;
  empathy: number;
}

/** The text of one document as retained so far (append concatenates, replace overwrites). */
export interface HindsightDocumentTable {
  bank_id: string;
  document_id: string;
  text: string;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/**
 * One memory unit: a raw fact (`world` / `experience`) or an `observation` consolidated from one.
 * `search` is a generated `tsvector` for the keyword arm and is never written.
 */
export interface HindsightUnitTable {
  id: string;
  seq: Generated<number>;
  bank_id: string;
  document_id: string | null;
  text: string;
  fact_type: string;
  context: string | null;
  tags: ColumnType<string[], never, never>;
  entities: ColumnType<string[], never, never>;
  source_fact_ids: ColumnType<string[] | null, never, never>;
  metadata: ColumnType<Record<string, string> | null, string | null, string | null>;
  mentioned_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  occurred_start: ColumnType<Date | null, Date | string | null, Date | string | null>;
  occurred_end: ColumnType<Date | null, Date | string | null, Date | string | null>;
  search: ColumnType<string, never, never>;
}

/** An async operation (`pending` -> `processing` -> `completed` | `failed`). */
export interface HindsightOperationTable {
  id: string;
  bank_id: string;
  status: string;
  operation_type: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  completed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  error_message: string | null;
}

/** The tables the stand-in server owns; it never reads another package's tables. */
export interface HindsightServerDB {
  hindsight_banks: HindsightBankTable;
  hindsight_documents: HindsightDocumentTable;
  hindsight_units: HindsightUnitTable;
  hindsight_operations: HindsightOperationTable;
}
