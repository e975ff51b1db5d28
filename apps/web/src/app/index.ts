export * from "./create-web-app.js";
