/** The slash commands the gateway handles itself; any other text (and any other `/word`) goes to the agent. */
export const GATEWAY_COMMAND_NAMES = [
  "new",
  "reset",
  "resume",
  "branch",
  "undo",
  "compress",
  "stop",
  "sessions",
  "model",
] as const;

export type GatewayCommandName = (typeof GATEWAY_COMMAND_NAMES)[number];

export interface GatewayCommand {
  readonly name: GatewayCommandName;
  /** Everything after the command word, trimmed (`""` when none). */
  readonly args: string;
}

const NAMES: ReadonlySet<string> = new Set(GATEWAY_COMMAND_NAMES);
/** `/cmd`, `/cmd@botname` (Telegram groups address commands to a bot), then optional arguments. */
const COMMAND = /^\/([a-z]+)(?:@[A-Za-z0-9_]{1,64})?(?:\s+([\s\S]*))?$/i;

/** The gateway command `text` spells, or `undefined` when the text is for the agent. */
export function parseGatewayCommand(text: string): GatewayCommand | undefined {
  const match = COMMAND.exec(text.trim());
  const name = match?.[1]?.toLowerCase();
  if (!match || name === undefined || !NAMES.has(name)) return undefined;
  return { name: name as GatewayCommandName, args: (match[2] ?? "").trim() };
}
