/**
 * SQLSTATEs that mean "this connection is gone or the server takes none now", not "this statement is
 * wrong": class 08 (connection exception), 57P01 admin shutdown (`pg_terminate_backend`, a fast
 * stop), 57P02 crash shutdown, 57P03 cannot connect now (starting up or shutting down).
 */
const CONNECTION_SQLSTATES = new Set(["57P01", "57P02", "57P03"]);
const SOCKET_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);
/** What `pg` says when the socket ended or the client was already broken (it sets no code). */
const PG_MESSAGES = [
  "Connection terminated",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
];

/**
 * Whether `error`, or any error in its `cause` chain, is a lost or refused database connection (the
 * server ended it, the network dropped it, the server is down or restarting) rather than a problem
 * with the statement. Such a failure is worth a retry once a new connection is up: HTTP layers answer
 * it with 503.
 */
export function isConnectionFailure(error: unknown): boolean {
  const seen = new Set<Error>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      if (code.length === 5 && code.startsWith("08")) return true;
      if (CONNECTION_SQLSTATES.has(code) || SOCKET_CODES.has(code)) return true;
    }
    const { message } = current;
    if (PG_MESSAGES.some((known) => message.startsWith(known))) return true;
    current = current.cause;
  }
  return false;
}
