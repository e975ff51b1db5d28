import { describe, expect, it } from "vitest";
import { parseGatewayCommand } from "./gateway-command.js";

describe("parseGatewayCommand", () => {
  it("reads the command word case-insensitively and keeps the arguments trimmed", () => {
    expect(parseGatewayCommand("/new")).toEqual({ name: "new", args: "" });
    expect(parseGatewayCommand("  /NEW   Trip to Oslo  ")).toEqual({ name: "new", args: "Trip to Oslo" });
    expect(parseGatewayCommand("/resume 2")).toEqual({ name: "resume", args: "2" });
    expect(parseGatewayCommand("/undo\n3")).toEqual({ name: "undo", args: "3" });
  });

  it("accepts a command addressed to a bot, as Telegram groups send them", () => {
    expect(parseGatewayCommand("/stop@engram_bot")).toEqual({ name: "stop", args: "" });
    expect(parseGatewayCommand("/model@engram_bot gpt-5")).toEqual({ name: "model", args: "gpt-5" });
  });

  it("leaves ordinary text, unknown commands and commands inside a sentence to the agent", () => {
    expect(parseGatewayCommand("hello")).toBeUndefined();
    expect(parseGatewayCommand("/weather Oslo")).toBeUndefined();
    expect(parseGatewayCommand("please /reset this")).toBeUndefined();
    expect(parseGatewayCommand("/newer")).toBeUndefined();
    expect(parseGatewayCommand("/")).toBeUndefined();
  });
});
