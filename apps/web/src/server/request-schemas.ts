import { findIdViolation, findKeySegmentViolation, findTextViolation, toStorableText } from "@engram/core";
import type { IdIssueParams } from "@engram/sessions/http";
import { z } from "zod";

/**
 * The fields of the web API's bodies and queries, checked at the route so the store never sees what it
 * cannot hold. Identifiers follow the path-safe id rules and answer `INVALID_ID`; titles, names and
 * queries holding a NUL or an unpaired surrogate answer `INVALID_ARGUMENT`; chat message text keeps
 * everything the user typed, NUL and unpaired surrogates as U+FFFD.
 */

/** A whole identifier (session, project, stream): no control characters, separators, `..` or leading dot. */
export const idField = z.string().superRefine((value, ctx) => {
  const violation = findIdViolation(value);
  if (violation !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: violation,
      params: { invalidId: value } satisfies IdIssueParams,
    });
  }
});

/** A name used inside keys (an agent profile): a leading dot or a `:` are fine, separators are not. */
export const keySegmentField = z.string().superRefine((value, ctx) => {
  const violation = findKeySegmentViolation(value);
  if (violation !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: violation,
      params: { invalidId: value } satisfies IdIssueParams,
    });
  }
});

/** A title, name or search text: stored or compared as given, so refused when it cannot be stored. */
export const labelField = (maxLength: number) =>
  z
    .string()
    .max(maxLength)
    .superRefine((value, ctx) => {
      const violation = findTextViolation(value);
      if (violation !== undefined)
        ctx.addIssue({ code: "custom", message: `must not contain a ${violation}` });
    });

/** Free message text: kept as typed, with NUL and unpaired surrogates replaced by U+FFFD. */
export const messageTextField = z.string().transform(toStorableText);

const TITLE_MAX = 500;
/** Largest list page and offset: past them a query is a mistake or an attack, not a page. */
const LIST_LIMIT_MAX = 500;
const LIST_OFFSET_MAX = 1_000_000;

export const newSessionBody = z
  .object({
    prevSessionId: idField.optional(),
    title: labelField(TITLE_MAX).optional(),
    profile: keySegmentField.optional(),
    projectId: idField.optional(),
  })
  .strict();

export const patchSessionBody = z
  .object({
    title: labelField(TITLE_MAX).nullable().optional(),
    pinned: z.boolean().optional(),
    archived: z.boolean().optional(),
    projectId: idField.nullable().optional(),
  })
  .strict();

export const undoBody = z.object({ count: z.int().min(1).max(100).optional() }).strict();
export const branchBody = z
  .object({ keep: z.int().min(0).optional(), title: labelField(TITLE_MAX).optional() })
  .strict();
export const importBody = z.object({ sessionId: idField, title: labelField(TITLE_MAX).optional() }).strict();
export const projectBody = z.object({ name: labelField(100).min(1) }).strict();
// Without a token the login is refused by the digest comparison (401), as a wrong one is.
export const loginBody = z.object({ token: z.string().max(1024).optional() });

export const chatStartBody = z.object({ sessionId: idField, message: messageTextField }).strict();
export const streamQuery = z.object({ streamId: idField });
export const streamBody = z.object({ streamId: idField }).strict();

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(LIST_LIMIT_MAX).optional(),
  offset: z.coerce.number().int().min(0).max(LIST_OFFSET_MAX).optional(),
  projectId: idField.optional(),
  archived: z.enum(["0", "1"]).optional(),
});
export const searchQuery = z.object({ q: labelField(200).min(1) });
