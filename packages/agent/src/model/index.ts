/** Model clients: the `ChatModel` contract, the offline default and the OpenAI-compatible client. */
export * from "./chat-model.js";
export * from "./create-chat-model.js";
export * from "./describe-chat-model.js";
export * from "./model-call-error.js";
export * from "./offline-model.js";
export * from "./openai-compatible-model.js";
export * from "./tool-call-accumulator.js";
