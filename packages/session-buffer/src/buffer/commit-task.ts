import type { ErrorCode } from "@engram/core";

export type CommitTaskStatus = "processing" | "completed" | "failed";

/** `commit`: the live buffer was snapshotted and cleared; `snapshot`: a caller-given fixed snapshot. */
export type CommitTaskKind = "commit" | "snapshot";

/** A pollable view of one commit's phase 2. A copy: later progress never changes an object you hold. */
export interface CommitTask {
  readonly taskId: string;
  readonly sessionId: string;
  readonly archiveId: string;
  readonly kind: CommitTaskKind;
  readonly status: CommitTaskStatus;
  /** True once the archive is written (durably, or to process memory when `degraded`). */
  readonly archived: boolean;
  /** `archive://<session>/<archive>` in the archive store, `memory://…` when kept in process memory. */
  readonly archiveUri: string | null;
  /** The configured archive store failed and the archive was kept in process memory instead. */
  readonly degraded: boolean;
  readonly messageCount: number;
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Why a commit request archived nothing. */
export type CommitRefusal = "empty_buffer" | "commit_in_progress" | "empty_snapshot";

export type CommitResult =
  | { readonly accepted: true; readonly task: CommitTask }
  | { readonly accepted: false; readonly sessionId: string; readonly reason: CommitRefusal };
