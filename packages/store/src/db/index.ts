export * from "./connection-failure.js";
export * from "./data-dir-lock.js";
export * from "./data-dir-locked-error.js";
export * from "./database.js";
export * from "./database-unavailable-error.js";
export * from "./migration-failed-error.js";
export * from "./migrations/index.js";
export * from "./migrator.js";
export * from "./open-migrated-database.js";
export {
  PostgresNotificationListener,
  type PostgresNotificationListenerProps,
} from "./postgres-notification-listener.js";
export * from "./postgres-session-key-lock.js";
export * from "./schema/index.js";
