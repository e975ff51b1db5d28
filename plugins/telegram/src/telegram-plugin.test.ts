import "reflect-metadata";
import { installPlugin } from "@engram/core";
import { PLATFORM_ADAPTER_FACTORIES, type PlatformAdapterFactory } from "@engram/sessions";
import { FakeClock } from "@engram/testkit";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { TelegramAdapter } from "./telegram-adapter.js";
import telegramPlugin, { telegramAdapterConfigSchema } from "./telegram-plugin.js";

const issuesOf = (input: unknown) => {
  const result = telegramAdapterConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join("."));
};

describe("the Telegram adapter's configuration", () => {
  it("needs a webhook secret in webhook mode (the default) and none when polling", () => {
    expect(issuesOf({ botToken: "1:a" })).toEqual(["webhookSecret"]);
    expect(issuesOf({ botToken: "1:a", webhookSecret: "s" })).toEqual([]);
    expect(issuesOf({ botToken: "1:a", mode: "polling" })).toEqual([]);
  });

  it("lists every bad setting at once", () => {
    expect(
      issuesOf({ botToken: "no", webhookSecret: "has spaces!", apiBaseUrl: "ftp://x", mode: "push" }),
    ).toEqual(["botToken", "mode", "webhookSecret", "apiBaseUrl"]);
    expect(issuesOf({ webhookSecret: "s", unknown: 1 })).toEqual(["botToken", ""]);
  });
});

describe("the Telegram plugin", () => {
  it("registers one adapter factory whose adapter polls or takes the webhook as configured", async () => {
    const child = container.createChildContainer();
    await installPlugin(child, telegramPlugin, { config: { botToken: "1:a", mode: "polling" } });
    const factories = child.resolveAll<PlatformAdapterFactory>(PLATFORM_ADAPTER_FACTORIES);
    expect(factories).toHaveLength(1);
    const adapter = factories[0]?.({ clock: new FakeClock() });
    expect(adapter).toBeInstanceOf(TelegramAdapter);
    expect((adapter as TelegramAdapter).mode).toBe("polling");
  });
});
