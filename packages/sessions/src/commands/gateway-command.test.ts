import { describe, expect, it } from "vitest";
import { parseGatewayCommand } from "./gateway-command.js";

describe("parseGatewayCommand", () => {
  it("reads the command word case-insensitively and keeps the arguments trimmed", () => {
    expect(parseGatewayCommand("/new")).toEqual({ name: "new", args: "", word: "/new" });
    expect(parseGatewayCommand("  /NEW   Trip to Oslo  ")).toEqual({
      name: "new",
      args: "Trip to Oslo",
      word: "/NEW",
    });
    expect(parseGatewayCommand("/resume 2")).toMatchObject({ name: "resume", args: "2" });
    expect(parseGatewayCommand("/undo\n3")).toMatchObject({ name: "undo", args: "3" });
  });

  it("accepts a command addressed to a bot, as Telegram groups send them", () => {
    expect(parseGatewayCommand("/stop@engram_bot")).toMatchObject({ name: "stop", args: "" });
    expect(parseGatewayCommand("/model@engram_bot gpt-5")).toMatchObject({ name: "model", args: "gpt-5" });
  });

  it("reads /help and Telegram's /start as the help command", () => {
    expect(parseGatewayCommand("/help")).toMatchObject({ name: "help" });
    expect(parseGatewayCommand("/start")).toMatchObject({ name: "help", word: "/start" });
  });

  it("marks a slash command the gateway does not know as unknown instead of passing it to the agent", () => {
    expect(parseGatewayCommand("/weather Oslo")).toEqual({ name: "unknown", args: "Oslo", word: "/weather" });
    expect(parseGatewayCommand("/newer")).toMatchObject({ name: "unknown", word: "/newer" });
    expect(parseGatewayCommand("/set_title@engram_bot x")).toMatchObject({
      name: "unknown",
      word: "/set_title",
    });
  });

  it("leaves ordinary text, slashes inside a sentence and paths to the agent", () => {
    expect(parseGatewayCommand("hello")).toBeUndefined();
    expect(parseGatewayCommand("please /reset this")).toBeUndefined();
    expect(parseGatewayCommand("/etc/hosts is missing")).toBeUndefined();
    expect(parseGatewayCommand("/")).toBeUndefined();
    expect(parseGatewayCommand("/ spaced")).toBeUndefined();
    expect(parseGatewayCommand("/2fa code")).toBeUndefined();
  });
});
