import { type OpenAIServerHandle, startOpenAIServer } from "@engram/testkit/openai-server";
import { afterAll, beforeAll } from "vitest";

/** The stand-in OpenAI server of one test file, with the waits the crash-style suites need. */
export interface StandInModel {
  /** The running server (valid inside tests: it starts in `beforeAll`). */
  readonly server: OpenAIServerHandle;
  /** The environment that points a gateway at it (`ENGRAM_MODEL*`), as an operator would configure it. */
  env(): Record<string, string>;
  /** Resolves once more than `after` model requests have arrived: the gateway is provably mid-turn. */
  requestArrives(after: number, timeoutMs?: number): Promise<void>;
}

/** Starts a stand-in OpenAI server for the calling test file (`beforeAll`) and closes it after. */
export function useStandInModel(): StandInModel {
  let server: OpenAIServerHandle | undefined;
  beforeAll(async () => {
    server = await startOpenAIServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  const running = (): OpenAIServerHandle => {
    if (!server) throw new Error("the stand-in model starts in beforeAll");
    return server;
  };
  return {
    get server() {
      return running();
    },
    env: () => ({ ENGRAM_MODEL: "stand-in", ENGRAM_MODEL_BASE_URL: running().baseUrl }),
    async requestArrives(after, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (running().requests.length <= after) {
        if (Date.now() > deadline) throw new Error("the model request never arrived");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** A Telegram DM source (the chat is the user). */
export const telegramDm = (chatId: string) => ({
  platform: "telegram",
  chatId,
  chatType: "dm",
  userId: chatId,
});
