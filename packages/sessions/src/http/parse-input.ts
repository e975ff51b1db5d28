import { InvalidArgumentError, InvalidIdError } from "@engram/core";
import type { z } from "zod";

/**
 * Marks a zod issue as a bad identifier: {@link parseInput} answers it with `INVALID_ID` instead of
 * `INVALID_ARGUMENT`. Put it in the `params` of a custom issue.
 */
export interface IdIssueParams {
  readonly invalidId: string;
}

/**
 * Validates `value` (a body, query or params object) with `schema`.
 *
 * @throws InvalidIdError for an issue marked with {@link IdIssueParams}, else InvalidArgumentError
 *   naming the first bad field (`body.source.chatId`) and the rule it broke.
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = `${what}${issue?.path.length ? `.${issue.path.map(String).join(".")}` : ""}`;
  const params = issue?.code === "custom" ? (issue.params as Partial<IdIssueParams> | undefined) : undefined;
  if (params?.invalidId !== undefined)
    throw new InvalidIdError(field, params.invalidId, issue?.message ?? "");
  throw new InvalidArgumentError(field, issue?.message ?? "is malformed");
}
