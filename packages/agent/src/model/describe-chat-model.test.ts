import { describe, expect, it } from "vitest";
import { createChatModel } from "./create-chat-model.js";
import { describeChatModel } from "./describe-chat-model.js";
import { OpenAICompatibleModel } from "./openai-compatible-model.js";

describe("describeChatModel", () => {
  it("explains the offline model in one line and names the variables that switch to a real one", () => {
    const described = describeChatModel({});
    expect(described).toMatchObject({ kind: "offline", warnings: [] });
    expect(described.summary).not.toContain("\n");
    for (const variable of ["ENGRAM_MODEL", "ENGRAM_MODEL_BASE_URL", "ENGRAM_MODEL_API_KEY"]) {
      expect(described.summary).toContain(variable);
    }
    expect(createChatModel({ env: {} }).id).toBe("offline");
  });

  it("says which endpoint a model named without a base URL or key goes to, as the client will use it", () => {
    const env = { ENGRAM_MODEL: "gpt-4.1-mini" };
    const described = describeChatModel(env);
    const client = createChatModel({ env }) as OpenAICompatibleModel;
    expect(described).toMatchObject({
      kind: "openai-compatible",
      model: "gpt-4.1-mini",
      baseUrl: client.baseUrl,
    });
    expect(described.summary).toContain(`gpt-4.1-mini at ${client.baseUrl}`);
    expect(described.warnings).toEqual([
      expect.stringContaining(`ENGRAM_MODEL_BASE_URL: requests go to ${client.baseUrl}`),
      expect.stringContaining("without an API key"),
    ]);
  });

  it("warns about nothing when the endpoint and the key are both given, and names where the key came from", () => {
    const env = {
      ENGRAM_MODEL: "llama3.2",
      ENGRAM_MODEL_BASE_URL: "http://127.0.0.1:11434/v1",
      OPENAI_API_KEY: "sk-test",
    };
    const described = describeChatModel(env);
    expect(described).toMatchObject({
      baseUrl: "http://127.0.0.1:11434/v1",
      apiKeyFrom: "OPENAI_API_KEY",
      warnings: [],
    });
    expect(described.summary).not.toContain("sk-test");
    expect(new OpenAICompatibleModel({ env }).baseUrl).toBe(described.baseUrl);
  });
});
