import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { engramConfigJsonSchema } from "./engram-config.js";
import { loadEngramConfig } from "./load-engram-config.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "engram-config-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
};

describe("engram.config.schema.json", () => {
  it("is the JSON Schema generated from the zod schema (pnpm --filter @engram/sessions schema)", () => {
    const published = JSON.parse(
      readFileSync(new URL("../../engram.config.schema.json", import.meta.url), "utf8"),
    );
    expect(published).toEqual(engramConfigJsonSchema());
  });
});

describe("loadEngramConfig: adapters", () => {
  it("enables no adapter without a file or Telegram variables", () => {
    expect(loadEngramConfig({ cwd: dir, env: {} }).adapters).toEqual([]);
  });

  it("enables Telegram from its variables when the file names no adapters, each variable naming its setting", () => {
    const loaded = loadEngramConfig({
      cwd: dir,
      env: { ENGRAM_TELEGRAM_BOT_TOKEN: "1:a", ENGRAM_TELEGRAM_MODE: "polling" },
    });
    expect(loaded.adapters).toEqual([
      {
        plugin: "@engram/adapter-telegram",
        config: { botToken: "1:a", mode: "polling" },
        path: "(@engram/adapter-telegram, enabled by the environment)",
        variables: {
          botToken: "ENGRAM_TELEGRAM_BOT_TOKEN",
          webhookSecret: "ENGRAM_TELEGRAM_WEBHOOK_SECRET",
          apiBaseUrl: "ENGRAM_TELEGRAM_API_BASE_URL",
          mode: "ENGRAM_TELEGRAM_MODE",
        },
      },
    ]);
  });

  it("takes the file's adapters, the variables overriding the file's Telegram settings", () => {
    write("engram.config.json", {
      adapters: [
        { plugin: "@engram/adapter-telegram", config: { botToken: "1:file", mode: "polling" } },
        { plugin: "example-adapter", config: { x: 1 } },
      ],
    });
    const loaded = loadEngramConfig({ cwd: dir, env: { ENGRAM_TELEGRAM_BOT_TOKEN: "2:env" } });
    expect(loaded.problems).toEqual([]);
    expect(loaded.adapters.map((entry) => [entry.path, entry.config])).toEqual([
      ["adapters[0]", { botToken: "2:env", mode: "polling" }],
      ["adapters[1]", { x: 1 }],
    ]);
  });

  it("an empty adapters list turns the environment's default off", () => {
    write("engram.config.json", { adapters: [] });
    expect(loadEngramConfig({ cwd: dir, env: { ENGRAM_TELEGRAM_BOT_TOKEN: "1:a" } }).adapters).toEqual([]);
  });
});

describe("loadEngramConfig", () => {
  it("defaults to Holographic with extraction when there is no file", () => {
    const loaded = loadEngramConfig({ cwd: dir, env: {} });
    expect(loaded.file).toBeUndefined();
    expect(loaded.problems).toEqual([]);
    expect(loaded.providers).toEqual([
      {
        plugin: "@engram/provider-holographic",
        config: { autoExtract: true },
        path: "(default memory provider)",
      },
    ]);
  });

  it("reads engram.config.json from the working directory, and resolves plugins from its folder", () => {
    const file = write("engram.config.json", {
      $schema: "./node_modules/@engram/sessions/engram.config.schema.json",
      memory: { providers: [{ plugin: "@engram/provider-hindsight", config: { mode: "external" } }] },
    });
    const loaded = loadEngramConfig({ cwd: dir, env: {} });
    expect(loaded.file).toBe(file);
    expect(loaded.dir).toBe(dir);
    expect(loaded.providers).toEqual([
      { plugin: "@engram/provider-hindsight", config: { mode: "external" }, path: "memory.providers[0]" },
    ]);
  });

  it("reads the file ENGRAM_CONFIG names, relative to the working directory", () => {
    write("other.json", { memory: { providers: [] } });
    const loaded = loadEngramConfig({ cwd: dir, env: { ENGRAM_CONFIG: "other.json" } });
    expect(loaded.file).toBe(join(dir, "other.json"));
    expect(loaded.providers).toEqual([]);
  });

  it("falls back to the folder pnpm start was typed in (INIT_CWD)", () => {
    const file = write("engram.config.json", { memory: { providers: [] } });
    const elsewhere = mkdtempSync(join(tmpdir(), "engram-cwd-"));
    try {
      expect(loadEngramConfig({ cwd: elsewhere, env: { INIT_CWD: dir } }).file).toBe(file);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("lists every problem of the file with the key it is about", () => {
    const file = write("engram.config.json", {
      memroy: {},
      memory: { providers: [{ plugin: "Not A Package" }, { config: {} }, { plugin: "ok", confg: {} }] },
    });
    const { problems } = loadEngramConfig({ cwd: dir, env: {} });
    // The unknown top-level key is about the file itself.
    expect(problems.map((p) => p.path).sort()).toEqual(
      [file, "memory.providers[0].plugin", "memory.providers[1].plugin", "memory.providers[2]"].sort(),
    );
    expect(new Set(problems.map((p) => p.code))).toEqual(new Set(["INVALID_CONFIG"]));
  });

  it("reports a missing ENGRAM_CONFIG file and a file that is not JSON", () => {
    expect(loadEngramConfig({ cwd: dir, env: { ENGRAM_CONFIG: "missing.json" } }).problems).toEqual([
      {
        code: "INVALID_CONFIG",
        path: "ENGRAM_CONFIG",
        message: `${join(dir, "missing.json")} does not exist`,
      },
    ]);
    write("engram.config.json", "{ not json");
    expect(loadEngramConfig({ cwd: dir, env: {} }).problems).toEqual([
      expect.objectContaining({ code: "INVALID_CONFIG", path: join(dir, "engram.config.json") }),
    ]);
  });

  it("takes the providers ENGRAM_MEMORY_PROVIDERS names, with the file's configuration when it has one", () => {
    write("engram.config.json", {
      memory: {
        providers: [
          { plugin: "@engram/provider-holographic" },
          { plugin: "@engram/provider-hindsight", config: { mode: "external" } },
        ],
      },
    });
    const loaded = loadEngramConfig({
      cwd: dir,
      env: { ENGRAM_MEMORY_PROVIDERS: "@engram/provider-hindsight, x-notes,," },
    });
    expect(loaded.providers).toEqual([
      { plugin: "@engram/provider-hindsight", config: { mode: "external" }, path: "memory.providers[1]" },
      { plugin: "x-notes", config: undefined, path: "ENGRAM_MEMORY_PROVIDERS[1]" },
    ]);
    expect(loaded.problems.map((p) => p.path)).toEqual([
      "ENGRAM_MEMORY_PROVIDERS[2]",
      "ENGRAM_MEMORY_PROVIDERS[3]",
    ]);
    expect(loadEngramConfig({ cwd: dir, env: { ENGRAM_MEMORY_PROVIDERS: "none" } }).providers).toEqual([]);
  });
});
