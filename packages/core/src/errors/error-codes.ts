/**
 * The one catalog of stable error codes. Codes never change once shipped; HTTP layers map them to a
 * status with {@link httpStatusFor}. Add a code here before throwing it anywhere.
 */
export const ERROR_CODES = {
  // input validation
  INVALID_ID: { status: 400, summary: "An identifier is empty, too long or not path-safe." },
  INVALID_ARGUMENT: { status: 400, summary: "An argument is missing or has the wrong shape." },
  CONTENT_TOO_LARGE: { status: 413, summary: "Content exceeds the configured size limit." },
  HEADERS_TOO_LARGE: { status: 431, summary: "The request line and headers exceed the server's size limit." },
  REQUEST_TIMEOUT: { status: 408, summary: "The client did not send a complete request in time." },
  INVALID_CONFIG: { status: 500, summary: "Configuration failed validation." },
  PORT_IN_USE: { status: 503, summary: "A server cannot listen: its port is taken by another process." },
  // lookups and state
  NOT_FOUND: { status: 404, summary: "The referenced resource does not exist." },
  SESSION_NOT_FOUND: { status: 404, summary: "The referenced session does not exist." },
  CONFLICT: { status: 409, summary: "The request conflicts with the current state." },
  STREAM_ACTIVE: { status: 409, summary: "The session already has an active stream." },
  COMMIT_IN_PROGRESS: { status: 409, summary: "A commit for this session is already running." },
  MEMORY_COMMIT_FAILED: {
    status: 502,
    summary: "An agent's memory commit failed; its generations stay uncommitted for a retry.",
  },
  // providers, tools and plugins
  TOOL_NOT_FOUND: { status: 404, summary: "No provider owns the requested tool." },
  TOOL_NOT_HANDLED: { status: 501, summary: "A provider declared a tool but does not handle it." },
  TOOL_NAME_RESERVED: { status: 400, summary: "A provider tried to register a reserved tool name." },
  PROVIDER_FAILED: { status: 502, summary: "A memory provider raised an error." },
  PROVIDER_TIMEOUT: { status: 504, summary: "A memory provider did not answer in time." },
  PLUGIN_INCOMPATIBLE: {
    status: 500,
    summary: "A plugin targets a core version range this core does not satisfy.",
  },
  PLUGIN_NOT_FOUND: { status: 500, summary: "A plugin named in the configuration is not installed." },
  PLUGIN_INVALID: {
    status: 500,
    summary: "A package named as a plugin does not load, exports no single plugin, or its factories fail.",
  },
  PROVIDER_CONFLICT: {
    status: 500,
    summary: "Two memory providers share a provider name or a tool name.",
  },
  ADAPTER_CONFLICT: {
    status: 500,
    summary: "Two platform adapters are configured for one platform.",
  },
  // agents
  MODEL_FAILED: { status: 502, summary: "The model call failed; the turn was not completed or saved." },
  // messaging platforms
  PLATFORM_FAILED: {
    status: 502,
    summary: "A messaging platform's API refused or failed a request (e.g. Telegram sendMessage).",
  },
  // auth
  UNAUTHORIZED: { status: 401, summary: "Credentials are missing or wrong." },
  FORBIDDEN: { status: 403, summary: "The caller may not access this resource." },
  // infrastructure
  DEADLINE_EXCEEDED: { status: 504, summary: "An operation did not finish before its deadline." },
  STORE_FAILED: { status: 503, summary: "The backing store failed." },
  DATABASE_UNAVAILABLE: {
    status: 503,
    summary:
      "The PostgreSQL server of DATABASE_URL cannot be reached, refuses the login or lacks the database.",
  },
  DATA_DIR_LOCKED: {
    status: 503,
    summary: "The embedded (PGlite) data folder is owned by another process; one folder serves one process.",
  },
  SESSION_KEY_LOCK_LOST: {
    status: 503,
    summary:
      "A session key's cross-process lock was lost while its turn ran; another turn may have overlapped.",
  },
  ARCHIVE_STORE_UNAVAILABLE: { status: 503, summary: "An archive store is required but not configured." },
  MIGRATION_FAILED: { status: 500, summary: "A database migration failed; later ones did not run." },
  INTERNAL: { status: 500, summary: "An unexpected internal error." },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function httpStatusFor(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
