export * from "./gateway-command.js";
export * from "./session-commands.js";
