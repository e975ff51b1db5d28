import { InvalidArgumentError } from "@engram/core";

/**
 * Placeholders a bank-id template may use. `{scope}` is the session's memory scope as the host chose it
 * (`ProviderInitContext.memoryScope`: one per person, or per shared room), the safe way to keep
 * people's memories in separate banks.
 */
export const BANK_ID_PLACEHOLDERS = ["profile", "platform", "user", "scope", "session"] as const;
export type BankIdPlaceholder = (typeof BANK_ID_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Throws `INVALID_ARGUMENT` when `template` names a placeholder other than {@link BANK_ID_PLACEHOLDERS}. */
export function assertBankIdTemplate(template: string): void {
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (!(BANK_ID_PLACEHOLDERS as readonly string[]).includes(match[1] ?? "")) {
      throw new InvalidArgumentError(
        "bankIdTemplate",
        `placeholder {${match[1]}} is not one of ${BANK_ID_PLACEHOLDERS.map((name) => `{${name}}`).join(", ")}`,
      );
    }
  }
}

/**
 * Fills a bank-id template. Values are reduced to `[A-Za-z0-9_.-]` (anything else becomes `-`) so a
 * user name can never add a path segment; a missing value becomes `default`.
 */
export function resolveBankId(template: string, values: Partial<Record<BankIdPlaceholder, string>>): string {
  return template.replace(PLACEHOLDER, (_all, name: string) => {
    const raw = values[name as BankIdPlaceholder]?.trim();
    if (!raw) return "default";
    return raw.replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 64);
  });
}
