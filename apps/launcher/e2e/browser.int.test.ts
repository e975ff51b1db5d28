// The whole system in a real browser: `launchEngram` (gateway + web server over one database, the
// Holographic provider, the offline model) driven by Debian's Chromium through playwright-core, on the
// embedded PGlite database and, when DATABASE_URL is set, on a fresh PostgreSQL database.
// Screenshots go to apps/launcher/artifacts/.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createScratchServerDatabase } from "@engram/store/testing";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Engram, launchEngram } from "../src/launch.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.CI)
    throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs Debian's chromium`);
  console.warn(
    `browser e2e SKIPPED: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH or apt-get install chromium)`,
  );
}

interface Backend {
  readonly name: string;
  /** Environment for the launch, and a cleanup. */
  prepare(): Promise<{ env: NodeJS.ProcessEnv; cleanup: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "pglite",
    async prepare() {
      const dir = mkdtempSync(join(tmpdir(), "engram-browser-"));
      const env = { ...process.env, DATABASE_URL: "", ENGRAM_DATA_DIR: dir };
      return { env, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
const serverUrl = process.env.DATABASE_URL;
if (serverUrl) {
  backends.push({
    name: "postgres",
    async prepare() {
      const scratch = await createScratchServerDatabase(serverUrl, "e2e_browser");
      return { env: { ...process.env, DATABASE_URL: scratch.url }, cleanup: scratch.drop };
    },
  });
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

for (const backend of backends) {
  describe.skipIf(!hasChromium)(`Engram in Chromium [${backend.name}]`, () => {
    let engram: Engram;
    let browser: Browser;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const prepared = await backend.prepare();
      cleanup = prepared.cleanup;
      engram = await launchEngram({
        env: { ...prepared.env, ENGRAM_GATEWAY_PORT: "0", ENGRAM_WEB_PORT: "0", ENGRAM_GATEWAY_TOKEN: "" },
      });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
      });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await engram?.close({ drainDeadlineMs: 5_000 });
      await cleanup?.();
    });

    it("tells a fact, starts a new session from it, and sees the fact recalled in the reply and the memory panel", async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(engram.webUrl);
      await page.getByRole("button", { name: "New session" }).click();
      await page.getByLabel("Message").fill("I prefer tabs over spaces");
      await page.getByRole("button", { name: "Send" }).click();
      await page.locator("li.message.assistant", { hasText: "[offline model]" }).first().waitFor();
      expect(await page.locator("li.message.user").allTextContents()).toEqual([
        expect.stringContaining("I prefer tabs over spaces"),
      ]);
      await shot(page, `${backend.name}-1-first-session`);

      // "New session" is the boundary: the server commits the open session's memory before it answers.
      const { sessions } = (await (await fetch(`${engram.webUrl}/api/sessions`)).json()) as {
        sessions: { id: string; title: string }[];
      };
      const first = sessions.find((s) => s.title === "I prefer tabs over spaces");
      expect(first).toBeDefined();
      await page.getByRole("button", { name: "New session" }).click();
      await expect
        .poll(
          async () => {
            const panel = await (await fetch(`${engram.webUrl}/api/session/${first!.id}/memory`)).json();
            return (panel as { lastCommit: { status: string } | null }).lastCommit?.status;
          },
          { timeout: 15_000 },
        )
        .toBe("committed");
      // The new session is open once the old one's messages are gone (typing earlier would go to a
      // composer the switch then clears).
      await page.locator("li.message").first().waitFor({ state: "detached" });

      await page.getByLabel("Message").fill("what do I prefer?");
      await page.getByRole("button", { name: "Send" }).click();
      const reply = page.locator("li.message.assistant", { hasText: "[offline model]" }).first();
      await reply.waitFor();
      expect(await reply.textContent()).toContain("tabs over spaces");
      await page.getByTestId("memory-panel").getByText("tabs over spaces").first().waitFor();
      await shot(page, `${backend.name}-2-recalled`);
      await page.setViewportSize({ width: 390, height: 844 });
      await shot(page, `${backend.name}-3-phone-width`);
      await page.close();
    }, 60_000);

    it("shows a messaging session created through the gateway in the sidebar without a reload", async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(engram.webUrl);
      await page.getByTestId("messaging-sessions").waitFor();
      const chat = randomBytes(3).toString("hex");
      const response = await fetch(`${engram.gatewayUrl}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          source: {
            platform: "telegram",
            chatId: chat,
            chatType: "dm",
            userId: chat,
            userName: `Ada ${chat}`,
          },
          text: `hello from telegram ${chat}`,
        }),
      });
      expect(response.status).toBe(200);
      await page
        .getByTestId("messaging-sessions")
        .getByText(`hello from telegram ${chat}`)
        .waitFor({ timeout: 15_000 });
      // The row names the person and the kind of chat, with the platform's badge and the last activity.
      const row = page
        .getByTestId("messaging-sessions")
        .getByRole("button", { name: new RegExp(`Ada ${chat}`) });
      expect(await row.textContent()).toMatch(/DM/);
      expect(await row.getByRole("img", { name: "Telegram" }).count()).toBe(1);
      expect(await row.locator("time").getAttribute("title")).toMatch(/\d{4}/);
      await page.getByTestId("messaging-sessions").getByText(`hello from telegram ${chat}`).click();
      await page.locator("li.message.assistant", { hasText: "[offline model]" }).first().waitFor();
      await page.getByRole("heading", { level: 1, name: `Ada ${chat}` }).waitFor();
      expect(new URL(page.url()).pathname).toMatch(/^\/m\//);
      await shot(page, `${backend.name}-4-messaging-session`);
      await page.close();
    }, 60_000);
  });
}
