/** Registration of the store's ports in a host's dependency-injection container. */
export * from "./register-postgres-ports.js";
