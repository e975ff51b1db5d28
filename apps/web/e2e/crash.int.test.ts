// kill -9 of the real web server executable in the middle of a streamed turn, then a restart on the
// same database: the user message saved before the agent ran is still there, nothing was wiped, and
// the session takes the next turn. The model is the testkit's stand-in OpenAI server (configured
// through ENGRAM_MODEL*), scripted to answer slowly so the process is provably mid-turn.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createScratchServerDatabase } from "@engram/store/testing";
import { type OpenAIServerHandle, startOpenAIServer } from "@engram/testkit/openai-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebClient } from "../src/test-support/web-client.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

interface Backend {
  readonly name: string;
  prepare(): Promise<{ env: NodeJS.ProcessEnv; cleanup: () => Promise<void> }>;
}
const backends: Backend[] = [
  {
    name: "pglite",
    async prepare() {
      const dir = mkdtempSync(join(tmpdir(), "engram-web-crash-"));
      return {
        env: { DATABASE_URL: "", ENGRAM_DATA_DIR: dir },
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];
const serverUrl = process.env.DATABASE_URL;
if (serverUrl) {
  backends.push({
    name: "postgres",
    async prepare() {
      const scratch = await createScratchServerDatabase(serverUrl, "e2e_web");
      return { env: { DATABASE_URL: scratch.url }, cleanup: scratch.drop };
    },
  });
}

/** Starts `node dist/main.js` on port 0 and resolves with its URL once it listens. */
function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...env, ENGRAM_WEB_PORT: "0", ENGRAM_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`web server did not start:\n${out}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`web server exited with ${code}:\n${out}`));
    });
  });
}

for (const backend of backends) {
  describe(`web server crash mid-stream [${backend.name}]`, () => {
    let model: OpenAIServerHandle;
    let prepared: { env: NodeJS.ProcessEnv; cleanup: () => Promise<void> };
    const children: ChildProcess[] = [];
    beforeAll(async () => {
      model = await startOpenAIServer();
      prepared = await backend.prepare();
    });
    afterAll(async () => {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      await model?.close();
      await prepared?.cleanup();
    });

    it("keeps the saved user message across kill -9 mid-turn, and the session takes the next turn", async () => {
      const env = { ...prepared.env, ENGRAM_MODEL: "stand-in", ENGRAM_MODEL_BASE_URL: model.baseUrl };
      const first = await startServer(env);
      children.push(first.child);
      const client = new WebClient(first.url);
      await client.init();
      const id = (await client.request("POST", "/api/session/new", {})).json.session.id as string;
      expect((await client.chat(id, "before the crash")).reply).toBe("ok");

      const seen = model.requests.length;
      model.script({ text: "never delivered", delayMs: 60_000 });
      const started = await client.request("POST", "/api/chat/start", {
        sessionId: id,
        message: "interrupted",
      });
      expect(started.status).toBe(202);
      const deadline = Date.now() + 15_000;
      while (model.requests.length <= seen && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(model.requests.length).toBeGreaterThan(seen);
      const exited = new Promise((resolve) => first.child.once("exit", (_code, signal) => resolve(signal)));
      first.child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");

      const second = await startServer(env);
      children.push(second.child);
      const again = new WebClient(second.url);
      await again.init();
      const session = (await again.request("GET", `/api/session/${id}`)).json.session;
      expect(session.messages.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
        ["user", "before the crash"],
        ["assistant", "ok"],
        ["user", "interrupted"],
      ]);
      expect(session.streaming).toBe(false);
      model.script({ text: "back again" });
      expect((await again.chat(id, "after the restart")).reply).toBe("back again");
      const after = (await again.request("GET", `/api/session/${id}`)).json.session.messages;
      expect(after.map((m: { content: string }) => m.content)).toEqual([
        "before the crash",
        "ok",
        "interrupted",
        "after the restart",
        "back again",
      ]);
      second.child.kill("SIGTERM");
    }, 90_000);
  });
}
