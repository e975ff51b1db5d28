import { EngramError } from "./engram-error.js";

/** Where a server was told to listen, and the setting that told it. */
export interface ListenTarget {
  readonly host: string;
  readonly port: number;
  /** The environment variable that sets the port (`ENGRAM_GATEWAY_PORT`). */
  readonly variable: string;
}

/** A server cannot listen because another process has its port (`EADDRINUSE`). */
export class PortInUseError extends EngramError {
  constructor(target: ListenTarget, cause?: unknown) {
    super(
      "PORT_IN_USE",
      `Port ${target.port} on ${target.host} (${target.variable}) is already in use by another process. ` +
        `Stop that process, or set ${target.variable} to a free port (0 picks one).`,
      { cause, details: { ...target } },
    );
    this.name = "PortInUseError";
  }
}

/**
 * The {@link PortInUseError} a failed `listen()` means, or `undefined` when `error` is something else
 * (a listen error carries `code: "EADDRINUSE"`).
 */
export function portInUseFrom(error: unknown, target: ListenTarget): PortInUseError | undefined {
  if (error instanceof PortInUseError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EADDRINUSE" ? new PortInUseError(target, error) : undefined;
}
