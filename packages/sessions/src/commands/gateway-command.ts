/** The slash commands the gateway handles itself. */
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
  "help",
] as const;

export type GatewayCommandName = (typeof GATEWAY_COMMAND_NAMES)[number];

export interface GatewayCommand {
  /**
   * `unknown`: text that is a slash command (`/word`, optionally `/word@bot` and arguments) but none
   * of the gateway's; it is answered with the command list instead of going to the agent, so a typo
   * (`/reste`) gets an answer that says so. Telegram's `/start` is `help`.
   */
  readonly name: GatewayCommandName | "unknown";
  /** Everything after the command word, trimmed (`""` when none). */
  readonly args: string;
  /** The command word as typed, with its slash (`/reste`). */
  readonly word: string;
}

const NAMES: ReadonlySet<string> = new Set(GATEWAY_COMMAND_NAMES);
/** Other words that mean a gateway command: Telegram sends `/start` when a person first opens a bot. */
const ALIASES: ReadonlyMap<string, GatewayCommandName> = new Map([["start", "help"]]);
/** `/cmd`, `/cmd@botname` (Telegram groups address commands to a bot), then optional arguments. */
const COMMAND = /^\/([a-z][a-z0-9_]*)(?:@[A-Za-z0-9_]{1,64})?(?:\s+([\s\S]*))?$/i;

/**
 * The gateway command `text` spells, or `undefined` when the text is for the agent: ordinary text,
 * a slash inside a sentence, or a path (`/etc/hosts`).
 */
export function parseGatewayCommand(text: string): GatewayCommand | undefined {
  const match = COMMAND.exec(text.trim());
  const word = match?.[1]?.toLowerCase();
  if (!match || word === undefined) return undefined;
  const name = NAMES.has(word) ? (word as GatewayCommandName) : (ALIASES.get(word) ?? "unknown");
  return { name, args: (match[2] ?? "").trim(), word: `/${match[1]}` };
}
