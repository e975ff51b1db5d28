import { EngramError } from "@engram/core";

/** `archiveStoreRequired` is set but no archive store was configured: the commit fails, nothing degrades. */
export class ArchiveStoreUnavailableError extends EngramError {
  constructor(sessionId: string) {
    super(
      "ARCHIVE_STORE_UNAVAILABLE",
      `Cannot archive session ${JSON.stringify(sessionId)}: an archive store is required and none is configured`,
      { details: { sessionId } },
    );
    this.name = "ArchiveStoreUnavailableError";
  }
}
