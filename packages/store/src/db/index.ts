export * from "./connection-failure.js";
export * from "./database.js";
export * from "./migration-failed-error.js";
export * from "./migrations/index.js";
export * from "./migrator.js";
export {
  PostgresNotificationListener,
  type PostgresNotificationListenerProps,
} from "./postgres-notification-listener.js";
export * from "./postgres-session-key-lock.js";
export * from "./schema/index.js";
