/** @engram/launcher — the gateway and the web server together over one database (`pnpm start`). */
export * from "./launch.js";
