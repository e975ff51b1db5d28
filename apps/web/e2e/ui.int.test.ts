/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The web UI in Debian's Chromium (playwright-core) against the real web server executable on the
// embedded PGlite database, at 1280x800 and 390x844. The model is the testkit's stand-in OpenAI server,
// scripted per test. Screenshots of each main screen, both themes and both widths, go to
// apps/web/artifacts/ (gitignored); axe-core runs on the same screens.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type OpenAIServerHandle, startOpenAIServer } from "@engram/testkit/openai-server";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebClient } from "../src/test-support/web-client.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const hasChromium = existsSync(CHROMIUM);
/** Set with ENGRAM_E2E_UI_DIR for a UI without per-session URLs: sessions are opened by a click. */
const OPEN_BY_CLICK = process.env.ENGRAM_E2E_OPEN_BY_CLICK === "1";
if (!hasChromium) {
  if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}`);
  console.warn(
    `web UI e2e SKIPPED: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH or apt-get install chromium)`,
  );
}

const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;
type Viewport = (typeof VIEWPORTS)[number];

/** Starts `node dist/main.js` (port 0 unless given) and resolves with its URL once it listens. */
function startServer(env: NodeJS.ProcessEnv, port = 0): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...env, ENGRAM_WEB_PORT: String(port), ENGRAM_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`web server did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`web server exited with ${code}:\n${out}`));
    });
  });
}

async function stopServer(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** axe-core's serious and critical violations on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const results = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected into the page as a global.
    const axe = (window as any).axe;
    return (await axe.run(document, { resultTypes: ["violations"] })).violations as {
      id: string;
      impact: string;
      nodes: { target: string[] }[];
    }[];
  });
  return results
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

describe.skipIf(!hasChromium)("the web UI in Chromium", () => {
  let model: OpenAIServerHandle;
  let browser: Browser;
  let dataDir: string;
  let server: { child: ChildProcess; url: string };
  let env: NodeJS.ProcessEnv;
  let api: WebClient;

  beforeAll(async () => {
    model = await startOpenAIServer();
    dataDir = mkdtempSync(join(tmpdir(), "engram-web-ui-"));
    env = {
      DATABASE_URL: "",
      ENGRAM_DATA_DIR: dataDir,
      ENGRAM_MODEL: "stand-in",
      ENGRAM_MODEL_BASE_URL: model.baseUrl,
      // Another build of the UI (e.g. the previous one, to show which of these tests it fails).
      ...(process.env.ENGRAM_E2E_UI_DIR ? { ENGRAM_WEB_UI_DIR: process.env.ENGRAM_E2E_UI_DIR } : {}),
    };
    server = await startServer(env);
    api = new WebClient(server.url);
    await api.init();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    if (server) await stopServer(server.child);
    await model?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  // Every session gets a unique title, so a UI without per-session URLs can still be driven (below).
  const titles = new Map<string, string>();
  let sessionCount = 0;
  const newSession = async (title?: string): Promise<string> => {
    const unique = title ?? `Session ${++sessionCount}`;
    const id = (await api.request("POST", "/api/session/new", { title: unique })).json.session.id as string;
    titles.set(id, unique);
    return id;
  };

  const openPage = async (viewport: Viewport, path = "/", colorScheme: "light" | "dark" = "light") => {
    const context = await browser.newContext({
      viewport: { width: viewport.width, height: viewport.height },
      colorScheme,
    });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    const page = await context.newPage();
    const nativeDialogs: string[] = [];
    page.on("dialog", (dialog) => {
      nativeDialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    const session = /^\/s\/(.+)$/.exec(path)?.[1];
    if (OPEN_BY_CLICK && session) {
      // A UI without a URL per session (the previous one): open it from the session list instead.
      await page.goto(server.url);
      await page.getByRole("button", { name: titles.get(session) ?? "", exact: true }).click();
    } else {
      await page.goto(server.url + path);
    }
    return { page, nativeDialogs, close: () => context.close() };
  };

  /** On a phone the session list is a drawer: open it first. */
  const showSidebar = async (page: Page, viewport: Viewport) => {
    if (viewport.name === "phone") await page.getByRole("button", { name: "Sessions", exact: true }).click();
    await page.getByRole("navigation", { name: "Sessions" }).waitFor();
    // Let the drawer finish sliding in (screenshots, hit testing).
    await page.waitForFunction(() =>
      document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState !== "running"),
    );
  };

  const send = async (page: Page, text: string) => {
    await page.getByLabel("Message", { exact: true }).fill(text);
    await page.getByLabel("Message", { exact: true }).press("Enter");
  };

  for (const viewport of VIEWPORTS) {
    describe(`at ${viewport.width}x${viewport.height}`, () => {
      it("renders markdown and highlighted code with a copy button, never raw HTML", async () => {
        const id = await newSession(`Markdown ${viewport.name}`);
        const { page, close } = await openPage(viewport, `/s/${id}`);
        model.script({
          text: [
            "## Plan",
            "",
            "- first **bold** step",
            "- second step",
            "",
            "```ts",
            "const answer: number = 42;",
            "```",
            "",
            '<img src="x" onerror="window.__xss = 1"> <script>window.__xss = 2</script>',
            "",
            "| a | b |",
            "|---|---|",
            "| 1 | 2 |",
          ].join("\n"),
        });
        await send(page, "show me a plan");
        const reply = page.locator("li.message.assistant").last();
        await reply.locator("h2", { hasText: "Plan" }).waitFor();
        expect(await reply.locator("ul > li").count()).toBe(2);
        expect(await reply.locator("strong", { hasText: "bold" }).count()).toBe(1);
        expect(await reply.locator("table td").count()).toBe(2);
        expect(await reply.locator("pre code .hljs-keyword").count()).toBeGreaterThan(0);
        expect(await reply.locator("img, script").count()).toBe(0);
        expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
        await reply.getByRole("button", { name: "Copy code" }).click();
        await reply.getByRole("button", { name: "Copy code" }).filter({ hasText: "Copied" }).waitFor();
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("const answer: number = 42;");

        await close();
      }, 60_000);

      it("wraps a 400-character word and a long URL inside the message, with no sideways scrolling", async () => {
        const id = await newSession(`Overflow ${viewport.name}`);
        const { page, close } = await openPage(viewport, `/s/${id}`);
        model.script({ text: `see https://example.com/${"segment/".repeat(40)}end` });
        await send(page, `show me ${"x".repeat(400)}`);
        await page.locator("li.message.assistant", { hasText: "example.com" }).last().waitFor();
        const fits = await page.evaluate(() => {
          const transcript = document.querySelector(".transcript") as HTMLElement;
          const t = transcript.getBoundingClientRect();
          const rows = [
            ...document.querySelectorAll("li.message.user, li.message.assistant"),
          ] as HTMLElement[];
          return {
            rowsOverflow: rows.filter((row) => {
              const r = row.getBoundingClientRect();
              return row.scrollWidth > row.clientWidth + 1 || r.right > t.right + 1 || r.left < t.left - 1;
            }).length,
            transcriptScrolls: transcript.scrollWidth > transcript.clientWidth + 1,
            pageScrolls: document.documentElement.scrollWidth > window.innerWidth,
          };
        });
        expect(fits).toEqual({ rowsOverflow: 0, transcriptScrolls: false, pageScrolls: false });
        await close();
      }, 60_000);

      it("gives each session its own URL: reload, back and forward keep the open session", async () => {
        const first = await newSession(`First ${viewport.name}`);
        const second = await newSession(`Second ${viewport.name}`);
        const { page, close } = await openPage(viewport);
        await showSidebar(page, viewport);
        await page.getByRole("button", { name: new RegExp(`First ${viewport.name}`) }).click();
        await page.waitForURL(`**/s/${first}`);
        await page.getByRole("heading", { level: 1, name: `First ${viewport.name}` }).waitFor();
        await showSidebar(page, viewport);
        await page.getByRole("button", { name: new RegExp(`Second ${viewport.name}`) }).click();
        await page.waitForURL(`**/s/${second}`);
        await page.reload();
        await page.getByRole("heading", { level: 1, name: `Second ${viewport.name}` }).waitFor();
        await page.goBack();
        await page.waitForURL(`**/s/${first}`);
        await page.getByRole("heading", { level: 1, name: `First ${viewport.name}` }).waitFor();
        await page.goForward();
        await page.getByRole("heading", { level: 1, name: `Second ${viewport.name}` }).waitFor();
        await close();
      }, 60_000);

      it("renames, creates a project and deletes through in-app dialogs (focus inside, Escape closes), never native ones", async () => {
        const id = await newSession(`Dialogs ${viewport.name}`);
        const { page, nativeDialogs, close } = await openPage(viewport, `/s/${id}`);
        await page.getByRole("button", { name: "Session actions" }).click();
        await page.getByRole("menuitem", { name: "Rename…" }).click();
        const dialog = page.getByRole("dialog", { name: "Rename session" });
        await dialog.waitFor();
        expect(await page.evaluate(() => document.activeElement?.closest("[role=dialog]") !== null)).toBe(
          true,
        );
        await page.keyboard.press("Escape");
        await dialog.waitFor({ state: "detached" });

        await page.getByRole("button", { name: "Session actions" }).click();
        await page.getByRole("menuitem", { name: "Rename…" }).click();
        await dialog.getByLabel("Title").fill(`Renamed ${viewport.name}`);
        await dialog.getByLabel("Title").press("Enter");
        await page.getByRole("heading", { level: 1, name: `Renamed ${viewport.name}` }).waitFor();
        await page.getByText("Renamed", { exact: true }).waitFor(); // the toast

        await showSidebar(page, viewport);
        await page.getByRole("button", { name: "New project" }).click();
        const project = page.getByRole("dialog", { name: "New project" });
        await project.getByLabel("Project name").fill(`Project ${viewport.name}`);
        await project.getByRole("button", { name: "Create" }).click();
        await page.getByRole("option", { name: `Project ${viewport.name}` }).waitFor({ state: "attached" });
        if (viewport.name === "phone") await page.keyboard.press("Escape");

        await page.getByRole("button", { name: "Session actions" }).click();
        await page.getByRole("menuitem", { name: "Delete…" }).click();
        const confirm = page.getByRole("dialog", { name: "Delete this session?" });
        await confirm.getByRole("button", { name: "Delete" }).click();
        await page.waitForURL((url) => url.pathname === "/");
        expect((await api.request("GET", `/api/session/${id}`)).status).toBe(404);
        expect(nativeDialogs).toEqual([]);
        await close();
      }, 60_000);

      it("shows a steady typing indicator until the first token, then the reply without a flicker, with time and model", async () => {
        const id = await newSession();
        const { page, close } = await openPage(viewport, `/s/${id}`);
        model.script({ text: "A steady reply, streamed in pieces.", delayMs: 1500, chunkSize: 6 });
        // Record, every frame, whether an assistant row (live or saved) is on screen once the turn began.
        await page.evaluate(() => {
          const w = window as unknown as { frames_: string[] };
          w.frames_ = [];
          const tick = () => {
            const live = document.querySelector('[data-testid="streaming-reply"]');
            const saved = document.querySelectorAll("li.message.assistant").length;
            const typing = document.querySelector(".typing") !== null;
            w.frames_.push(`${live ? "live" : ""}|${saved}|${typing ? "typing" : ""}`);
            requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        });
        await send(page, "stream to me");
        await page.getByRole("status", { name: "The agent is typing" }).waitFor();
        const saved = page.locator("li.message.assistant:not(.live)", { hasText: "A steady reply" });
        await saved.waitFor();
        const frames = await page.evaluate(() => (window as unknown as { frames_: string[] }).frames_);
        const firstSeen = frames.findIndex((f) => f.startsWith("live") || f.includes("typing"));
        expect(firstSeen).toBeGreaterThanOrEqual(0);
        // From the typing indicator on, some assistant row is on screen in every frame.
        const gaps = frames.slice(firstSeen).filter((f) => f === "|0|");
        expect(gaps).toEqual([]);
        const meta = saved.locator(".meta");
        expect(await meta.locator(".model").textContent()).toContain("stand-in");
        const time = meta.locator("time");
        expect(await time.getAttribute("title")).toMatch(/\d{4}/);
        expect(await page.locator("li.message.user time").count()).toBe(1);
        await close();
      }, 60_000);

      it("sends with Enter, adds a line with Shift+Enter, searches with Ctrl+K and starts a session with Ctrl+Shift+O", async () => {
        const id = await newSession();
        const { page, close } = await openPage(viewport, `/s/${id}`);
        const box = page.getByLabel("Message", { exact: true });
        await box.fill("line one");
        await box.press("Shift+Enter");
        await box.pressSequentially("line two");
        expect(await box.inputValue()).toBe("line one\nline two");
        await box.press("Enter");
        await page.locator("li.message.user", { hasText: "line two" }).waitFor();
        expect(await box.inputValue()).toBe("");
        await page.locator("li.message.assistant:not(.live)").waitFor();

        await page.keyboard.press("Control+K");
        await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("search");
        await page.keyboard.press("Escape");
        await page.keyboard.press("Control+Shift+O");
        await page.waitForURL((url) => url.pathname.startsWith("/s/") && !url.pathname.endsWith(id));
        // The composer is on screen at once, at every width.
        const composer = await page.locator("form.composer").boundingBox();
        expect(composer).not.toBeNull();
        expect(composer!.y + composer!.height).toBeLessThanOrEqual(viewport.height + 1);
        await close();
      }, 60_000);

      it("shows the model's failure by class with what to set, and Retry", async () => {
        const id = await newSession();
        const { page, close } = await openPage(viewport, `/s/${id}`);
        model.script({ kind: "error", status: 400, message: "bad request" });
        await send(page, "this will fail");
        const failure = page.locator(".failed-marker");
        await failure.waitFor();
        expect(await failure.textContent()).toMatch(/model/i);
        expect(await failure.textContent()).toMatch(/ENGRAM_MODEL/);
        model.script({ text: "second time lucky" });
        await failure.getByRole("button", { name: "Retry" }).click();
        await page.locator("li.message.assistant:not(.live)", { hasText: "second time lucky" }).waitFor();
        await close();
      }, 60_000);

      it("shows what memory recalled under a reply, and lists, searches, corrects and forgets facts in the memory view", async () => {
        const fact = `Prefers tabs over spaces in ${viewport.name} projects`;
        const id = await newSession();
        const { page, nativeDialogs, close } = await openPage(viewport, `/s/${id}`);
        model.script(
          {
            text: "",
            toolCalls: [
              { id: "c1", name: "fact_store", arguments: JSON.stringify({ action: "add", content: fact }) },
            ],
          },
          { text: "Noted." },
        );
        await send(page, "remember my preference");
        await page.locator("li.message.assistant:not(.live)", { hasText: "Noted." }).waitFor();
        model.script({ text: "You like tabs." });
        await send(page, `what do I prefer in ${viewport.name} projects? tabs?`);
        // The saved reply, not the live one it replaces (a click on the live one would be lost with it).
        const reply = page.locator("li.message.assistant:not(.live)", { hasText: "You like tabs." }).last();
        await reply.waitFor();
        const recall = reply.locator("details.recall");
        await recall.locator("summary").click();
        await recall.getByText(fact).waitFor();

        await page.goto(`${server.url}/memory`);
        const facts = page.getByRole("list", { name: "Remembered facts" });
        await facts.getByText(fact).waitFor();
        await page
          .getByLabel("Search memory")
          .fill(viewport.name === "phone" ? "phone projects" : "desktop projects");
        await page.getByLabel("Search memory").press("Enter");
        await expect.poll(() => facts.locator("li").count()).toBe(1);
        const corrected = `${fact}, width 4`;
        await facts.getByRole("button", { name: `Edit: ${fact}` }).click();
        const editor = page.getByRole("dialog", { name: "Correct this fact" });
        await editor.getByLabel("What Engram should remember").fill(corrected);
        await editor.getByRole("button", { name: "Save" }).click();
        await facts.getByText(corrected).waitFor();
        await facts.getByRole("button", { name: `Forget: ${corrected}` }).click();
        const confirm = page.getByRole("dialog", { name: "Forget this fact?" });
        await confirm.getByRole("button", { name: "Forget" }).click();
        await facts.getByText(corrected).waitFor({ state: "detached" });
        const listed = await api.request("GET", "/api/memory");
        const contents = listed.json.facts.map((f: { content: string }) => f.content);
        expect(contents).not.toContain(fact);
        expect(contents).not.toContain(corrected);
        expect(nativeDialogs).toEqual([]);
        await close();
      }, 60_000);

      it("opens the memory view and the session list as a drawer on a phone", async () => {
        const { page, close } = await openPage(viewport, "/memory");
        await page.getByRole("heading", { level: 1, name: "What Engram remembers" }).waitFor();
        if (viewport.name === "phone") {
          // The list is a drawer: hidden until asked for, then reachable to its last section.
          expect(await page.getByRole("navigation", { name: "Sessions" }).isVisible()).toBe(false);
          await showSidebar(page, viewport);
          const messaging = page.getByRole("heading", { name: "Messaging" });
          await messaging.scrollIntoViewIfNeeded();
          expect(await messaging.isVisible()).toBe(true);
          const box = await page.getByRole("navigation", { name: "Sessions" }).boundingBox();
          expect(box!.width).toBeLessThanOrEqual(viewport.width);
          await page.keyboard.press("Escape");
          await expect.poll(() => page.getByRole("navigation", { name: "Sessions" }).isVisible()).toBe(false);
        }
        await close();
      }, 60_000);

      for (const theme of ["light", "dark"] as const) {
        it(`has no serious or critical axe violations on the main screens, ${theme} theme (screenshots)`, async () => {
          const id = await newSession(
            `A session with a rather long title that must not push its actions away ${viewport.name} ${theme}`,
          );
          model.script(
            {
              text: "",
              toolCalls: [
                {
                  name: "fact_store",
                  arguments: JSON.stringify({
                    action: "add",
                    content: `Prefers dark roast coffee (${viewport.name}, ${theme})`,
                  }),
                },
              ],
            },
            { text: "Noted:\n\n- **dark roast**\n- see `coffee.md`\n\n```sh\necho brew --strong\n```" },
          );
          await api.chat(
            id,
            "Tell me about `markdown` with a [link](https://example.com/a/very/long/path/that/keeps/going/and/going)",
          );
          const tag = `${viewport.name}-${theme}`;
          const { page, close } = await openPage(viewport, "/", theme);
          await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
          const problems: Record<string, string[]> = {};
          await page.getByText("Start a new session or pick one from the list.").waitFor();
          await page.locator("nav button.row").first().waitFor({ state: "attached" });
          await shot(page, `${tag}-1-home`);
          problems.home = await seriousViolations(page);

          await page.goto(`${server.url}/s/${id}`);
          await page.locator("li.message.assistant .meta .model").first().waitFor();
          await page.locator("nav button.row").first().waitFor({ state: "attached" });
          await shot(page, `${tag}-2-chat`);
          problems.chat = await seriousViolations(page);

          await page.getByRole("button", { name: "Session actions" }).click();
          await page.getByRole("menuitem", { name: "Rename…" }).waitFor();
          await shot(page, `${tag}-3-actions-menu`);
          problems.menu = await seriousViolations(page);
          await page.getByRole("menuitem", { name: "Rename…" }).click();
          await page.getByRole("dialog").waitFor();
          await shot(page, `${tag}-4-rename-dialog`);
          problems.dialog = await seriousViolations(page);
          await page.keyboard.press("Escape");

          if (viewport.name === "phone") {
            await showSidebar(page, viewport);
            await shot(page, `${tag}-5-drawer`);
            problems.drawer = await seriousViolations(page);
            await page.keyboard.press("Escape");
          }
          await page.goto(`${server.url}/memory`);
          await page.getByRole("heading", { level: 1, name: "What Engram remembers" }).waitFor();
          await shot(page, `${tag}-6-memory`);
          problems.memory = await seriousViolations(page);
          expect(problems).toEqual(Object.fromEntries(Object.keys(problems).map((k) => [k, []])));
          await close();
        }, 90_000);
      }
    });
  }

  // These stop the server: they run last, at each width.
  for (const viewport of VIEWPORTS) {
    it(`[${viewport.name}] server down: a banner says so, the typed text is kept, and Retry sends it once it is back`, async () => {
      const id = await newSession();
      const { page, close } = await openPage(viewport, `/s/${id}`);
      await page.getByLabel("Message", { exact: true }).waitFor();
      const port = new URL(server.url).port;
      await stopServer(server.child);
      await send(page, "kept while the server is down");
      await page.getByTestId("server-down").waitFor();
      expect(await page.getByTestId("server-down").textContent()).toContain("Can't reach the Engram server");
      expect(await page.locator("body").textContent()).not.toContain("Failed to fetch");
      expect(await page.getByLabel("Message", { exact: true }).inputValue()).toBe(
        "kept while the server is down",
      );
      await shot(page, `${viewport.name}-light-7-server-down`);
      expect(await seriousViolations(page)).toEqual([]);

      server = await startServer(env, Number(port));
      model.script({ text: "back online" });
      await page.locator(".send-error").getByRole("button", { name: "Try again" }).click();
      await page.locator("li.message.assistant:not(.live)", { hasText: "back online" }).waitFor();
      expect(await page.getByLabel("Message", { exact: true }).inputValue()).toBe("");
      await page.getByTestId("server-down").waitFor({ state: "detached" });
      await close();
    }, 90_000);

    it(`[${viewport.name}] a stream broken mid-reply keeps its text marked interrupted, and after the restart the turn is marked with Retry`, async () => {
      const id = await newSession();
      const { page, close } = await openPage(viewport, `/s/${id}`);
      const port = new URL(server.url).port;
      model.script({
        text: `partial words arrive slowly ${"and more ".repeat(40)}`,
        delayMs: 20_000,
        chunkSize: 8,
      });
      await send(page, "tell me slowly");
      const live = page.getByTestId("streaming-reply");
      await live.filter({ hasText: "partial" }).waitFor({ timeout: 15_000 });
      await stopServer(server.child, "SIGKILL");
      // The partial text stays on screen, marked as interrupted.
      await page.getByText(/Interrupted/).waitFor({ timeout: 10_000 });
      expect(await page.locator("li.message.assistant", { hasText: "partial" }).count()).toBe(1);
      expect(await live.locator(".interrupted-marker").count()).toBe(1);
      await shot(page, `${viewport.name}-light-8-interrupted`);

      server = await startServer(env, Number(port));
      await page.reload();
      const marker = page.locator("li.interrupted-marker");
      await marker.waitFor();
      model.script({ text: "answered after the restart" });
      await marker.getByRole("button", { name: "Retry" }).click();
      await page
        .locator("li.message.assistant:not(.live)", { hasText: "answered after the restart" })
        .waitFor();
      await close();
    }, 120_000);
  }
});
