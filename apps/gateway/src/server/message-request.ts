import { findTextViolation, MAX_EPOCH_MS, toStorableText } from "@engram/core";
import type { IdIssueParams } from "@engram/sessions/http";
import { z } from "zod";

const MAX_MESSAGE_ID_LENGTH = 256;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** A platform message id: opaque, but one the store can index and a log line can print. */
const messageId = z.union([
  z.int(),
  z.string().superRefine((value, ctx) => {
    let rule: string | undefined;
    if (value === "" || value.length > MAX_MESSAGE_ID_LENGTH)
      rule = `must be 1-${MAX_MESSAGE_ID_LENGTH} characters`;
    else if (CONTROL_CHARS.test(value)) rule = "must not contain control characters";
    else if (findTextViolation(value) !== undefined) rule = "must not contain an unpaired surrogate";
    if (rule !== undefined) {
      ctx.addIssue({ code: "custom", message: rule, params: { invalidId: value } satisfies IdIssueParams });
    }
  }),
]);

/**
 * The body of `POST /v1/messages`, checked before anything runs. `source` is only required to be an
 * object here: `parseSessionSource` (ids path-safe and storable, names storable) is its schema. `text`
 * keeps everything the user typed that can be stored: NUL and unpaired surrogates become U+FFFD (the
 * turn handler still refuses empty and oversized text). Unknown keys are ignored, as before.
 */
export const messageRequestBody = z.object({
  source: z.record(z.string(), z.unknown()),
  text: z.string().transform(toStorableText),
  messageId: messageId.nullish(),
  timestamp: z
    .number()
    .min(0)
    .max(MAX_EPOCH_MS, { message: "must be an epoch time in ms no later than year 9999" })
    .nullish(),
});

export type MessageRequestBody = z.output<typeof messageRequestBody>;
