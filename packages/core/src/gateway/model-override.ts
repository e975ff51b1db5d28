/** The only keys of a per-session model override that may be persisted; never credentials. */
export const PERSISTABLE_MODEL_OVERRIDE_KEYS = ["model", "provider", "baseUrl"] as const;

export type ModelOverride = Partial<Record<(typeof PERSISTABLE_MODEL_OVERRIDE_KEYS)[number], string>>;

const WIRE_NAMES: Readonly<Record<string, (typeof PERSISTABLE_MODEL_OVERRIDE_KEYS)[number]>> = {
  model: "model",
  provider: "provider",
  baseUrl: "baseUrl",
  base_url: "baseUrl",
};

/**
 * A copy of `override` with only model, provider and base URL (stringified; `base_url` is accepted),
 * or `undefined` when nothing persistable remains. API keys, API modes and anything else are dropped:
 * credentials are re-resolved from configuration when the override is restored, never stored.
 */
export function sanitizeModelOverride(override: unknown): ModelOverride | undefined {
  if (typeof override !== "object" || override === null || Array.isArray(override)) return undefined;
  const cleaned: ModelOverride = {};
  for (const [key, value] of Object.entries(override)) {
    const name = Object.hasOwn(WIRE_NAMES, key) ? WIRE_NAMES[key] : undefined;
    if (name === undefined || value === undefined || value === null || value === "") continue;
    if (typeof value === "object" || typeof value === "function") continue;
    cleaned[name] = String(value);
  }
  return Object.keys(cleaned).length > 0 ? cleaned : undefined;
}
