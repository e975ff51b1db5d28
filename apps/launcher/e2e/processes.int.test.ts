/**
 * The launcher as real processes on one embedded data folder.
 *
 * Regressions: two `pnpm start` (different ports) both opened `.engram/data`, each served its own view
 * and one run's writes were silently lost; Ctrl-C under pnpm printed ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL
 * and ELIFECYCLE after the launcher's clean "stopped.", because the shell and pnpm layers between the
 * terminal and the launcher died of the same Ctrl-C (and a second SIGINT killed the draining launcher).
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATA_DIR_LOCK_FILE, openMigratedDatabase } from "@engram/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LauncherProcess } from "./launcher-process.js";

const STARTUP_MS = 120_000;

describe("the launcher as processes on one embedded data folder", () => {
  let dir: string;
  let dataDir: string;
  const started: LauncherProcess[] = [];
  const launch = (env: Record<string, string> = {}, viaPnpm = false) => {
    const launcher = new LauncherProcess({ env: { ENGRAM_DATA_DIR: dataDir, ...env }, viaPnpm });
    started.push(launcher);
    return launcher;
  };
  const say = async (gatewayUrl: string, chatId: string, text: string) => {
    const response = await fetch(`${gatewayUrl}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        source: { platform: "telegram", chatId, chatType: "dm", userId: chatId },
        text,
      }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { reply: string };
  };
  const userMessages = async () => {
    const database = await openMigratedDatabase({ dataDir });
    try {
      const rows = await database.db
        .selectFrom("messages")
        .select("content")
        .where("role", "=", "user")
        .orderBy("id")
        .execute();
      return rows.map((row) => row.content);
    } finally {
      await database.close();
    }
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "engram-launcher-processes-"));
    dataDir = join(dir, "data");
  });
  afterAll(async () => {
    await Promise.all(started.map((launcher) => launcher.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "refuses a second launcher on the same folder, naming the folder, the owner's pid and what to do, while the first keeps serving with its data intact",
    async () => {
      const first = launch();
      const { gatewayUrl, webUrl } = await first.ready;
      // The banner says which model answers, and how to switch to a real one.
      expect(first.output).toMatch(/model: +offline stand-in .*ENGRAM_MODEL/);
      await say(gatewayUrl, "4001", "before the second start");

      const second = launch();
      const exit = await second.exited;
      expect(exit.code).toBe(1);
      expect(second.output).toContain(dataDir);
      expect(second.output).toContain(`pid ${first.pid}`);
      expect(second.output).toMatch(/ENGRAM_DATA_DIR.*DATABASE_URL/s);
      expect(second.output).not.toContain("Engram is running");

      await say(gatewayUrl, "4001", "after the second start");
      const feed = (await (await fetch(`${webUrl}/api/messaging/sessions`)).json()) as {
        sessions: Array<{ messageCount: number }>;
      };
      expect(feed.sessions.map((session) => session.messageCount)).toEqual([4]);

      first.signal("SIGINT");
      expect(await first.exited).toEqual({ code: 0, signal: null });
      expect(readdirSync(dataDir)).not.toContain(DATA_DIR_LOCK_FILE);
      expect(await userMessages()).toEqual(["before the second start", "after the second start"]);
    },
    STARTUP_MS * 2,
  );

  it(
    "takes the folder over from a launcher killed with kill -9, and finds its data",
    async () => {
      const owner = launch();
      const { gatewayUrl } = await owner.ready;
      await say(gatewayUrl, "4002", "before kill -9");
      await owner.stop("SIGKILL");
      expect(readdirSync(dataDir)).toContain(DATA_DIR_LOCK_FILE);

      const next = launch();
      await next.ready;
      expect(next.output).not.toContain("in use by");
      next.signal("SIGINT");
      expect((await next.exited).code).toBe(0);
      expect(await userMessages()).toContain("before kill -9");
    },
    STARTUP_MS * 2,
  );

  it(
    "ends with exit code 0 on Ctrl-C under pnpm, with nothing from pnpm after stopped.",
    async () => {
      const launcher = launch({}, true);
      await launcher.ready;
      // Ctrl-C in a terminal signals the whole foreground process group: pnpm, any shell, the launcher.
      launcher.signal("SIGINT");
      expect(await launcher.exited).toEqual({ code: 0, signal: null });
      const afterStop = launcher.output.slice(launcher.output.indexOf("stopped."));
      expect(afterStop.trim()).toBe("stopped.");
      expect(launcher.output).not.toMatch(/ELIFECYCLE|ERR_PNPM/);
    },
    STARTUP_MS,
  );
});
