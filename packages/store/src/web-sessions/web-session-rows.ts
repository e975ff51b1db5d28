import {
  DEFAULT_PROFILE,
  deriveWebTitle,
  type ListWebSessionsOptions,
  UNTITLED_TITLE,
  type WebProject,
  type WebSessionSummary,
} from "@engram/core";
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { DB, WebProjectRow } from "../db/schema/index.js";

const ms = (value: Date | string): number => (value instanceof Date ? value.getTime() : Date.parse(value));

/** The session columns a summary needs; never a message body. */
export const SUMMARY_COLUMNS = [
  "s.id",
  "s.source",
  "s.title",
  "s.workspace",
  "s.model",
  "s.personality",
  "s.profile",
  "s.project_id",
  "s.pinned",
  "s.archived",
  "s.message_count",
  "s.input_tokens",
  "s.output_tokens",
  "s.cost_usd",
  "s.started_at",
  "s.updated_at",
] as const;

/** Enough of the first user message to derive a title from (the title keeps 64 characters). */
const TITLE_SOURCE_CHARS = 256;

/**
 * For untitled sessions only: the start of the first active user message with any non-space text.
 * One index probe on `messages (session_id, id)` per row of the page; bodies are cut in the database.
 */
export function firstUserTextOfUntitled(alias = "s"): RawBuilder<string | null> {
  const id = sql.ref(`${alias}.id`);
  const title = sql.ref(`${alias}.title`);
  // Same rule as core's `titleSourceText`: content when set, else the text parts joined by spaces.
  return sql<string | null>`case when ${title} is null or ${title} = ${UNTITLED_TITLE} then (
    select left(t.text, ${TITLE_SOURCE_CHARS}) from messages m
    cross join lateral (
      select coalesce(m.content, case when jsonb_typeof(m.parts) = 'array' then (
        select string_agg(p ->> 'text', ' ') from jsonb_array_elements(m.parts) p
        where p ->> 'type' = 'text' and jsonb_typeof(p -> 'text') = 'string'
      ) end) as text
    ) t
    where m.session_id = ${id} and m.role = 'user' and m.active and t.text ~ '\\S'
    order by m.id limit 1
  ) end`;
}

export interface SummaryRow {
  id: string;
  source: string;
  title: string | null;
  workspace: string | null;
  model: string | null;
  personality: string | null;
  profile: string | null;
  project_id: string | null;
  pinned: boolean;
  archived: boolean;
  message_count: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  started_at: Date;
  updated_at: Date;
  first_user_text: string | null;
}

export function toWebSessionSummary(row: SummaryRow): WebSessionSummary {
  const explicit = row.title !== null && row.title !== UNTITLED_TITLE;
  return {
    id: row.id,
    title: (explicit ? row.title : deriveWebTitle(row.first_user_text)) ?? UNTITLED_TITLE,
    hasExplicitTitle: explicit,
    source: row.source,
    workspace: row.workspace,
    model: row.model,
    personality: row.personality,
    profile: row.profile || DEFAULT_PROFILE,
    projectId: row.project_id,
    pinned: row.pinned,
    archived: row.archived,
    messageCount: Number(row.message_count),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costUsd: Number(row.cost_usd),
    createdAt: ms(row.started_at),
    updatedAt: ms(row.updated_at),
  };
}

export function toWebProject(row: WebProjectRow): WebProject {
  return {
    id: row.id,
    name: row.name,
    color: row.color,
    createdAt: ms(row.created_at),
    updatedAt: ms(row.updated_at),
  };
}

/** The summary query over live, web-visible sessions; callers add filters, order and limits. */
export function selectSummaries(db: Kysely<DB>) {
  return db
    .selectFrom("sessions as s")
    .select(SUMMARY_COLUMNS)
    .select(firstUserTextOfUntitled().as("first_user_text"))
    .where("s.deleted_at", "is", null)
    .where("s.web_visible", "=", true);
}

/**
 * One sidebar page: live web sessions, pinned first then newest, with the hiding rule and filters.
 * Without a profile it follows `sessions_web_list_idx`, with one `sessions_web_profile_list_idx`, so a
 * page is an index scan that stops after `offset + limit` rows whatever the number of sessions.
 *
 * The page is chosen first and the derived-title probe runs for its rows alone: in one flat query it
 * also ran for every untitled row the offset skipped, so a deep page paid for all the pages before.
 */
export function selectWebSessionPage(
  db: Kysely<DB>,
  options: ListWebSessionsOptions,
  page: { readonly hideBefore: Date; readonly limit: number; readonly offset: number },
) {
  let rows = db
    .selectFrom("sessions as s")
    .select(SUMMARY_COLUMNS)
    .where("s.deleted_at", "is", null)
    .where("s.web_visible", "=", true)
    // Empty untitled sessions (page refreshes, abandoned tabs) disappear after the grace period.
    .where((eb) =>
      eb.not(
        eb.and([
          eb.or([eb("s.title", "is", null), eb("s.title", "=", UNTITLED_TITLE)]),
          eb("s.message_count", "=", 0),
          eb("s.updated_at", "<", page.hideBefore),
        ]),
      ),
    );
  if (!options.includeArchived) rows = rows.where("s.archived", "=", false);
  if (options.profile !== undefined) {
    // Sessions from before profiles existed belong to the default profile. Spelled exactly as the
    // index expression (a literal, not a parameter), or the planner cannot use it.
    rows = rows.where(
      sql`coalesce(nullif(s.profile, ''), ${sql.lit(DEFAULT_PROFILE)})`,
      "=",
      options.profile,
    );
  }
  if (options.projectId !== undefined) {
    rows =
      options.projectId === null
        ? rows.where("s.project_id", "is", null)
        : rows.where("s.project_id", "=", options.projectId);
  }
  const chosen = rows
    .orderBy("s.pinned", "desc")
    .orderBy("s.updated_at", "desc")
    .orderBy("s.id", "desc")
    .limit(page.limit)
    .offset(page.offset);
  // The derived-title probe on the outer query: a subquery with a limit is never flattened, so it
  // runs for the chosen rows only.
  return db
    .selectFrom(chosen.as("page"))
    .selectAll("page")
    .select(firstUserTextOfUntitled("page").as("first_user_text"))
    .orderBy("page.pinned", "desc")
    .orderBy("page.updated_at", "desc")
    .orderBy("page.id", "desc");
}
