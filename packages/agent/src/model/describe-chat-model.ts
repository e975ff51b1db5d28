import { DEFAULT_MODEL_BASE_URL, isModelConfigured } from "./openai-compatible-model.js";

/** Which model answers a host's turns, as {@link createChatModel} will pick it from the environment. */
export interface ChatModelDescription {
  readonly kind: "offline" | "openai-compatible";
  /** The model name (`ENGRAM_MODEL`); absent for the offline model. */
  readonly model?: string;
  /** Where requests go; absent for the offline model. */
  readonly baseUrl?: string;
  /** The variable the API key is read from; absent when none is set (or offline). */
  readonly apiKeyFrom?: "ENGRAM_MODEL_API_KEY" | "OPENAI_API_KEY";
  /** One line for a start-up banner: which model answers, or what the offline model is and how to leave it. */
  readonly summary: string;
  /**
   * Defaults the environment left to chance that a person should see at start: the endpoint chosen
   * without `ENGRAM_MODEL_BASE_URL`, no API key set. Empty when nothing was guessed.
   */
  readonly warnings: readonly string[];
}

/**
 * Describes the model {@link createChatModel} builds from `env` (the same rules), for start-up
 * banners and logs: a model named without a base URL goes to OpenAI, and nobody should find that out
 * from a 401 on the first message.
 */
export function describeChatModel(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ChatModelDescription {
  if (!isModelConfigured(env)) {
    return {
      kind: "offline",
      summary:
        "offline stand-in (no AI: it repeats your message and what memory recalled). " +
        "For a real model set ENGRAM_MODEL, with ENGRAM_MODEL_BASE_URL (any OpenAI-compatible server; " +
        "default OpenAI) and ENGRAM_MODEL_API_KEY.",
      warnings: [],
    };
  }
  const model = env.ENGRAM_MODEL?.trim() ?? "";
  const baseUrl = env.ENGRAM_MODEL_BASE_URL?.trim() || DEFAULT_MODEL_BASE_URL;
  const apiKeyFrom = env.ENGRAM_MODEL_API_KEY?.trim()
    ? "ENGRAM_MODEL_API_KEY"
    : env.OPENAI_API_KEY?.trim()
      ? "OPENAI_API_KEY"
      : undefined;
  const warnings: string[] = [];
  if (!env.ENGRAM_MODEL_BASE_URL?.trim()) {
    warnings.push(
      `ENGRAM_MODEL is set without ENGRAM_MODEL_BASE_URL: requests go to ${DEFAULT_MODEL_BASE_URL} ` +
        "(set ENGRAM_MODEL_BASE_URL for Ollama, vLLM, llama.cpp or another server).",
    );
  }
  if (!apiKeyFrom) {
    warnings.push(
      "ENGRAM_MODEL is set without an API key (ENGRAM_MODEL_API_KEY or OPENAI_API_KEY): " +
        `requests to ${baseUrl} carry none, which a local server accepts and OpenAI refuses.`,
    );
  }
  return {
    kind: "openai-compatible",
    model,
    baseUrl,
    ...(apiKeyFrom ? { apiKeyFrom } : {}),
    summary: `${model} at ${baseUrl}${apiKeyFrom ? ` (API key from ${apiKeyFrom})` : " (no API key)"}`,
    warnings,
  };
}
