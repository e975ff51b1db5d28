import type { ChatModel } from "./chat-model.js";
import { OfflineModel } from "./offline-model.js";
import {
  isModelConfigured,
  OpenAICompatibleModel,
  type OpenAICompatibleModelProps,
} from "./openai-compatible-model.js";

/**
 * The model a host gets by default: an {@link OpenAICompatibleModel} when a model is named (in `props`
 * or `ENGRAM_MODEL`), otherwise the {@link OfflineModel}, so a fresh install runs without an API key.
 */
export function createChatModel(props: OpenAICompatibleModelProps = {}): ChatModel {
  const env = props.env ?? process.env;
  if (props.model?.trim() || isModelConfigured(env)) return new OpenAICompatibleModel({ ...props, env });
  return new OfflineModel();
}
