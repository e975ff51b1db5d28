import { randomUUID } from "node:crypto";
import { type Kysely, type Selectable, sql } from "kysely";
import type { BankDisposition, HindsightServerDB } from "./db/schema.js";
import { extractEntities } from "./extraction.js";
import { HttpError } from "./http/fastapi-errors.js";
import { BodyReader } from "./http/request-validation.js";

/** What `PUT /banks/{id}` may change; `undefined` leaves a field as it is. */
export interface BankUpdate {
  readonly name: string | undefined;
  readonly mission: string | undefined;
  readonly background: string | undefined;
  readonly disposition: Partial<BankDisposition>;
}

/** A page of a listing: `limit`/`offset` as the query string gave them (defaults 100 / 0). */
export interface Page {
  readonly limit: number;
  readonly offset: number;
}

const TRAITS = ["skepticism", "literalism", "empathy"] as const;

function trait(reader: BodyReader, field: string): number | undefined {
  const value = reader.integer(field);
  if (value !== undefined && (value < 1 || value > 5)) {
    reader.fail(field, "less_than_equal", "Input should be between 1 and 5", value);
  }
  return value;
}

/**
 * Parses `CreateBankRequest`: the profile fields this server keeps (`reflect_mission` counts as the
 * mission, as `setMission` sends it). Retain and retrieval settings are accepted and ignored, as a
 * server with those features switched off would.
 */
export function parseBankUpdate(raw: unknown): BankUpdate {
  const reader = new BodyReader(raw ?? {});
  const disposition: Partial<BankDisposition> = {};
  const nested = reader.object("disposition");
  if (nested) {
    for (const name of TRAITS) {
      const value = trait(nested, name);
      if (value !== undefined) disposition[name] = value;
    }
    reader.merge(nested);
  }
  for (const name of TRAITS) {
    const value = trait(reader, `disposition_${name}`);
    if (value !== undefined) disposition[name] = value;
  }
  const update: BankUpdate = {
    name: reader.string("name"),
    mission: reader.string("mission") ?? reader.string("reflect_mission"),
    background: reader.string("background"),
    disposition,
  };
  reader.done();
  return update;
}

/** `limit` / `offset` from a query string; a 422 when they are not non-negative integers. */
export function parsePage(query: URLSearchParams): Page {
  const read = (name: string, fallback: number, max: number) => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value > max) {
      throw new HttpError(422, [
        { type: "int_parsing", loc: ["query", name], msg: "Input should be a valid integer", input: raw },
      ]);
    }
    return value;
  };
  return { limit: read("limit", 100, 1000), offset: read("offset", 0, Number.MAX_SAFE_INTEGER) };
}

const iso = (value: Date | string | null | undefined) =>
  value === null || value === undefined ? null : new Date(value).toISOString();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A memory unit as `memories/list` and `memories/{memory_id}` show it. */
function memoryUnitItem(row: Selectable<HindsightServerDB["hindsight_units"]>): Record<string, unknown> {
  return {
    id: row.id,
    text: row.text,
    context: row.context ?? "",
    date: iso(row.occurred_start ?? row.mentioned_at),
    fact_type: row.fact_type,
    mentioned_at: iso(row.mentioned_at),
    occurred_start: iso(row.occurred_start),
    occurred_end: iso(row.occurred_end),
    entities: row.entities.join(", "),
    tags: row.tags,
    document_id: row.document_id,
    source_fact_ids: row.source_fact_ids,
  };
}

/**
 * Banks and documents of the stand-in server, as Hindsight's management API shows them: bank
 * profiles, bank listing and deletion, memory-unit and document listings, document deletion.
 */
export class HindsightBankAdmin {
  constructor(private readonly db: Kysely<HindsightServerDB>) {}

  /** Creates the bank (as first use does) or updates the given profile fields. */
  async upsertBank(bankId: string, update: BankUpdate): Promise<Record<string, unknown>> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("hindsight_banks")
        .values({ bank_id: bankId })
        .onConflict((oc) => oc.doNothing())
        .execute();
      const current = await trx
        .selectFrom("hindsight_banks")
        .select("disposition")
        .where("bank_id", "=", bankId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      await trx
        .updateTable("hindsight_banks")
        .set({
          ...(update.name === undefined ? {} : { name: update.name }),
          ...(update.mission === undefined ? {} : { mission: update.mission }),
          ...(update.background === undefined ? {} : { background: update.background }),
          disposition: JSON.stringify({ ...current.disposition, ...update.disposition }),
          updated_at: sql<Date>`now()`,
        })
        .where("bank_id", "=", bankId)
        .execute();
    });
    return this.profile(bankId);
  }

  /** `BankProfileResponse`; an unknown bank is created with defaults, as the real server does. */
  async profile(bankId: string): Promise<Record<string, unknown>> {
    await this.db
      .insertInto("hindsight_banks")
      .values({ bank_id: bankId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const bank = await this.db
      .selectFrom("hindsight_banks")
      .selectAll()
      .where("bank_id", "=", bankId)
      .executeTakeFirstOrThrow();
    return {
      bank_id: bank.bank_id,
      name: bank.name ?? bank.bank_id,
      disposition: bank.disposition,
      mission: bank.mission ?? "",
      background: bank.background,
    };
  }

  /** `BankListResponse`: every bank with its raw-fact count and last write. */
  async listBanks(): Promise<Record<string, unknown>> {
    const banks = await this.db
      .selectFrom("hindsight_banks as b")
      .select((eb) => [
        "b.bank_id",
        "b.name",
        "b.mission",
        "b.disposition",
        "b.created_at",
        "b.updated_at",
        eb
          .selectFrom("hindsight_units as u")
          .whereRef("u.bank_id", "=", "b.bank_id")
          .where("u.fact_type", "!=", "observation")
          .select((inner) => inner.fn.countAll<string>().as("n"))
          .as("fact_count"),
        eb
          .selectFrom("hindsight_documents as d")
          .whereRef("d.bank_id", "=", "b.bank_id")
          .select((inner) => inner.fn.max("d.updated_at").as("last"))
          .as("last_document_at"),
      ])
      .orderBy("b.bank_id")
      .execute();
    return {
      banks: banks.map((bank) => ({
        bank_id: bank.bank_id,
        name: bank.name,
        disposition: bank.disposition,
        mission: bank.mission,
        created_at: iso(bank.created_at),
        updated_at: iso(bank.updated_at),
        fact_count: Number(bank.fact_count ?? 0),
        last_document_at: iso(bank.last_document_at as Date | null),
        last_write_at: iso((bank.last_document_at as Date | null) ?? bank.updated_at),
      })),
    };
  }

  /** `DeleteResponse`; deleting a bank deletes its documents and memory units (404 when unknown). */
  async deleteBank(bankId: string): Promise<Record<string, unknown>> {
    return this.db.transaction().execute(async (trx) => {
      const units = await trx.deleteFrom("hindsight_units").where("bank_id", "=", bankId).executeTakeFirst();
      const deleted = await trx
        .deleteFrom("hindsight_banks")
        .where("bank_id", "=", bankId)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) throw new HttpError(404, `Bank '${bankId}' not found`);
      return {
        success: true,
        message: `Bank '${bankId}' and all its data deleted`,
        deleted_count: Number(units.numDeletedRows),
      };
    });
  }

  /** `ListMemoryUnitsResponse`: units newest first, filtered by type, text, or document. */
  async listMemories(bankId: string, query: URLSearchParams): Promise<Record<string, unknown>> {
    const page = parsePage(query);
    const type = query.get("type");
    const q = query.get("q");
    const documentId = query.get("document_id");
    let select = this.db.selectFrom("hindsight_units").where("bank_id", "=", bankId);
    if (type) select = select.where("fact_type", "=", type);
    if (q) select = select.where("text", "ilike", `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (documentId) select = select.where("document_id", "=", documentId);
    const total = await select.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    const rows = await select
      .selectAll()
      .orderBy("seq", "desc")
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return {
      items: rows.map(memoryUnitItem),
      total: Number(total.n),
      limit: page.limit,
      offset: page.offset,
    };
  }

  /** One memory unit (`GET /memories/{memory_id}`): the listing's item shape; 404 when the bank lacks it. */
  async memory(bankId: string, memoryId: string): Promise<Record<string, unknown>> {
    if (!UUID.test(memoryId)) throw new HttpError(404, `Memory unit '${memoryId}' not found`);
    const row = await this.db
      .selectFrom("hindsight_units")
      .selectAll()
      .where("bank_id", "=", bankId)
      .where("id", "=", memoryId.toLowerCase())
      .executeTakeFirst();
    if (!row) throw new HttpError(404, `Memory unit '${memoryId}' not found`);
    return { ...memoryUnitItem(row), bank_id: bankId };
  }

  /**
   * `PATCH /memories/{memory_id}` (`UpdateMemoryRequest`): new `text` and/or `context` of a raw fact.
   * As the real server does, new text re-indexes the fact, drops the observations derived from it and
   * re-consolidates (here: one observation mirroring the new text). Other fields of the request are
   * accepted and left as they are. 404 when the bank lacks the unit.
   */
  async updateMemory(bankId: string, memoryId: string, raw: unknown): Promise<Record<string, unknown>> {
    const reader = new BodyReader(raw ?? {});
    const text = reader.string("text");
    const context = reader.string("context");
    if (text !== undefined && text.trim() === "")
      reader.fail("text", "string_too_short", "Text must not be empty", text);
    reader.done();
    if (!UUID.test(memoryId)) throw new HttpError(404, `Memory unit '${memoryId}' not found`);
    const id = memoryId.toLowerCase();
    await this.db.transaction().execute(async (trx) => {
      const unit = await trx
        .selectFrom("hindsight_units")
        .selectAll()
        .where("bank_id", "=", bankId)
        .where("id", "=", id)
        .forUpdate()
        .executeTakeFirst();
      if (!unit) throw new HttpError(404, `Memory unit '${memoryId}' not found`);
      await trx
        .updateTable("hindsight_units")
        .set({
          ...(text === undefined ? {} : { text, entities: sql`${sql.val(extractEntities(text))}::text[]` }),
          ...(context === undefined ? {} : { context: context === "" ? null : context }),
        })
        .where("id", "=", id)
        .execute();
      if (text === undefined || unit.fact_type === "observation") return;
      await trx
        .deleteFrom("hindsight_units")
        .where("bank_id", "=", bankId)
        .where("fact_type", "=", "observation")
        .where(sql<boolean>`${id} = any(source_fact_ids)`)
        .execute();
      await sql`
        insert into hindsight_units
          (id, bank_id, document_id, text, fact_type, context, metadata, mentioned_at, occurred_start, occurred_end,
           tags, entities, source_fact_ids)
        select ${randomUUID()}, bank_id, document_id, text, 'observation', context, metadata, mentioned_at,
               occurred_start, occurred_end, tags, entities, array[id]
        from hindsight_units where id = ${id}
      `.execute(trx);
    });
    return this.memory(bankId, id);
  }

  /** `ListDocumentsResponse`: documents most recently updated first, optionally by id substring. */
  async listDocuments(bankId: string, query: URLSearchParams): Promise<Record<string, unknown>> {
    const page = parsePage(query);
    const q = query.get("q");
    let select = this.db.selectFrom("hindsight_documents as d").where("d.bank_id", "=", bankId);
    if (q) select = select.where("d.document_id", "ilike", `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const total = await select.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    const rows = await select
      .select((eb) => [
        "d.document_id",
        "d.text",
        "d.updated_at",
        eb
          .selectFrom("hindsight_units as u")
          .whereRef("u.bank_id", "=", "d.bank_id")
          .whereRef("u.document_id", "=", "d.document_id")
          .where("u.fact_type", "!=", "observation")
          .select((inner) => inner.fn.countAll<string>().as("n"))
          .as("memory_unit_count"),
      ])
      .orderBy("d.updated_at", "desc")
      .orderBy("d.document_id")
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return {
      items: rows.map((row) => ({
        id: row.document_id,
        bank_id: bankId,
        text_length: row.text.length,
        created_at: iso(row.updated_at),
        updated_at: iso(row.updated_at),
        memory_unit_count: Number(row.memory_unit_count ?? 0),
      })),
      total: Number(total.n),
      limit: page.limit,
      offset: page.offset,
    };
  }

  /** `DocumentResponse` (404 when unknown). */
  async document(bankId: string, documentId: string): Promise<Record<string, unknown>> {
    const row = await this.db
      .selectFrom("hindsight_documents")
      .selectAll()
      .where("bank_id", "=", bankId)
      .where("document_id", "=", documentId)
      .executeTakeFirst();
    if (!row) throw new HttpError(404, `Document '${documentId}' not found in bank '${bankId}'`);
    const units = await this.db
      .selectFrom("hindsight_units")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("bank_id", "=", bankId)
      .where("document_id", "=", documentId)
      .where("fact_type", "!=", "observation")
      .executeTakeFirstOrThrow();
    return {
      id: row.document_id,
      bank_id: bankId,
      original_text: row.text,
      content_hash: null,
      created_at: iso(row.updated_at),
      updated_at: iso(row.updated_at),
      memory_unit_count: Number(units.n),
      tags: [],
    };
  }

  /** `DeleteDocumentResponse`: the document and every unit extracted from it (404 when unknown). */
  async deleteDocument(bankId: string, documentId: string): Promise<Record<string, unknown>> {
    return this.db.transaction().execute(async (trx) => {
      const units = await trx
        .deleteFrom("hindsight_units")
        .where("bank_id", "=", bankId)
        .where("document_id", "=", documentId)
        .executeTakeFirst();
      const deleted = await trx
        .deleteFrom("hindsight_documents")
        .where("bank_id", "=", bankId)
        .where("document_id", "=", documentId)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) {
        throw new HttpError(404, `Document '${documentId}' not found in bank '${bankId}'`);
      }
      return {
        success: true,
        message: `Document '${documentId}' and ${Number(units.numDeletedRows)} memory units deleted`,
        document_id: documentId,
        memory_units_deleted: Number(units.numDeletedRows),
      };
    });
  }
}
