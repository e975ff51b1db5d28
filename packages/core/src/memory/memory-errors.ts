import { EngramError } from "../errors/engram-error.js";

/** A provider was asked to run a tool it does not handle (the default `handleToolCall`). */
export class ToolNotHandledError extends EngramError {
  constructor(provider: string, tool: string) {
    super("TOOL_NOT_HANDLED", `Memory provider "${provider}" does not handle tool "${tool}"`, {
      details: { provider, tool },
    });
    this.name = "ToolNotHandledError";
  }
}

/** No registered provider owns the requested tool. */
export class ToolNotFoundError extends EngramError {
  constructor(tool: string) {
    super("TOOL_NOT_FOUND", `No memory provider owns tool ${JSON.stringify(tool)}`, { details: { tool } });
    this.name = "ToolNotFoundError";
  }
}

/** A provider declared a tool whose name the host reserves for its own tools. */
export class ToolNameReservedError extends EngramError {
  constructor(provider: string, tool: string) {
    super(
      "TOOL_NAME_RESERVED",
      `Memory provider "${provider}" declared tool "${tool}", a name reserved for core tools`,
      { details: { provider, tool } },
    );
    this.name = "ToolNameReservedError";
  }
}

/** A provider hook threw or rejected; `cause` holds what it threw. */
export class ProviderFailedError extends EngramError {
  constructor(provider: string, operation: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super("PROVIDER_FAILED", `Memory provider "${provider}" failed in ${operation}: ${reason}`, {
      cause,
      details: { provider, operation },
    });
    this.name = "ProviderFailedError";
  }
}

/** A provider hook did not settle within its time budget. The call may still be running. */
export class ProviderTimeoutError extends EngramError {
  constructor(provider: string, operation: string, timeoutMs: number) {
    super(
      "PROVIDER_TIMEOUT",
      `Memory provider "${provider}" did not finish ${operation} within ${timeoutMs} ms`,
      { details: { provider, operation, timeoutMs } },
    );
    this.name = "ProviderTimeoutError";
  }
}
