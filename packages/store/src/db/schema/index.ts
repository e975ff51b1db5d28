/**
 * The tables `@engram/store` owns. Each table file exports its row type, `tableName` and a `PartialDB`;
 * `DB` is their intersection. Other packages compose their own `DB` and never import these.
 */
import type { PartialDB as CommitInstancesDB } from "./commit-instances.js";
import type { PartialDB as CommitSegmentsDB } from "./commit-segments.js";
import type { PartialDB as CommitSessionsDB } from "./commit-sessions.js";
import type { PartialDB as MessagesDB } from "./messages.js";
import type { PartialDB as PlatformMessageReceiptsDB } from "./platform-message-receipts.js";
import type { PartialDB as RoutingEntriesDB } from "./routing-entries.js";
import type { PartialDB as SessionsDB } from "./sessions.js";
import type { PartialDB as WebProjectsDB } from "./web-projects.js";
import type { PartialDB as WebSessionColumnsDB } from "./web-session-columns.js";

export type DB = SessionsDB &
  MessagesDB &
  PlatformMessageReceiptsDB &
  RoutingEntriesDB &
  WebProjectsDB &
  WebSessionColumnsDB &
  CommitSessionsDB &
  CommitSegmentsDB &
  CommitInstancesDB;

export type { CommitInstanceRow, CommitInstanceTable, NewCommitInstanceRow } from "./commit-instances.js";
export { commitInstanceTableName } from "./commit-instances.js";
export type { CommitSegmentRow, CommitSegmentTable, NewCommitSegmentRow } from "./commit-segments.js";
export { commitSegmentTableName } from "./commit-segments.js";
export type { CommitSessionRow, CommitSessionTable, NewCommitSessionRow } from "./commit-sessions.js";
export { commitSessionTableName } from "./commit-sessions.js";
export type { Jsonb, MessageRow, MessageTable, NewMessageRow } from "./messages.js";
export { messageTableName } from "./messages.js";
export type {
  NewPlatformMessageReceiptRow,
  PlatformMessageReceiptRow,
  PlatformMessageReceiptTable,
} from "./platform-message-receipts.js";
export { platformMessageReceiptTableName } from "./platform-message-receipts.js";
export type {
  NewRoutingEntryRow,
  RoutingEntryRow,
  RoutingEntryTable,
  RoutingEntryUpdate,
} from "./routing-entries.js";
export { routingEntryTableName } from "./routing-entries.js";
export type {
  GeneratedTimestamp,
  NewSessionRow,
  SessionRow,
  SessionTable,
  SessionUpdate,
  Timestamp,
} from "./sessions.js";
export { sessionTableName } from "./sessions.js";
export type { NewWebProjectRow, WebProjectRow, WebProjectTable, WebProjectUpdate } from "./web-projects.js";
export { webProjectTableName } from "./web-projects.js";
export type { WebSessionColumns } from "./web-session-columns.js";
