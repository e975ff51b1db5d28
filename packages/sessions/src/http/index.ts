/**
 * `@engram/sessions/http`: the HTTP boundary every Engram server shares (Fastify): input validation
 * with coded errors, the error answers for requests refused before any route runs, and the recorded
 * route table the auth and fuzz suites walk. Types only from `fastify`; no server is built here.
 */
export * from "./boundary-errors.js";
export * from "./parse-input.js";
export * from "./route-table.js";
