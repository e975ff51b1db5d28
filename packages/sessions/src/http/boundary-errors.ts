import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { EngramError, type ErrorCode } from "@engram/core";
import type { FastifyError, FastifyReply } from "fastify";

/**
 * The answer to an error Fastify raises before any route runs: a path the router cannot decode
 * (`/%zz`, an encoded lone surrogate) or a parameter over its length limit. Same error shape as every
 * other answer of the server (Fastify's default has its own).
 */
export function sendFrameworkError(error: FastifyError, reply: FastifyReply): FastifyReply {
  const code = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? "INVALID_ID" : "INVALID_ARGUMENT";
  return reply.status(400).send(new EngramError(code, error.message).toJSON());
}

/**
 * The answer to a request Node's HTTP parser refused before Fastify saw it (a malformed request line,
 * headers over the size limit, a request that never completed), written to the socket in the same
 * error shape, then the connection is closed. Fastify's `clientErrorHandler`.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  let code: ErrorCode = "INVALID_ARGUMENT";
  let message = "Malformed HTTP request";
  if (error.code === "HPE_HEADER_OVERFLOW") {
    code = "HEADERS_TOO_LARGE";
    message = "The request line and headers exceed the size limit";
  } else if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    code = "REQUEST_TIMEOUT";
    message = "The request did not arrive in time";
  }
  const failure = new EngramError(code, message);
  const body = JSON.stringify(failure.toJSON());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${failure.httpStatus} ${STATUS_CODES[failure.httpStatus]}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
