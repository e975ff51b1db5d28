/** A stand-in OpenAI-compatible chat-completions server for tests of model clients. */
export * from "./openai-server.js";
