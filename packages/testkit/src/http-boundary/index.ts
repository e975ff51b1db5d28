/**
 * Tools for testing an HTTP server's boundary over real HTTP: requests sent with the path exactly as
 * written, the spellings of a path a router may decode to the same route, the check of Engram's error
 * shape, and a property-based fuzzer (fast-check) over a server's whole route table.
 */
export * from "./coded-error.js";
export * from "./fuzz-http-routes.js";
export * from "./hostile-values.js";
export * from "./path-spellings.js";
export * from "./raw-http-request.js";
