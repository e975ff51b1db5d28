import type { JsonObject } from "@engram/core";
import type { ArchivedMessage, SessionArchive } from "../ports/archive-store.js";

export interface MergedArchive {
  readonly overview: string;
  readonly abstract: string;
  readonly messages: readonly ArchivedMessage[];
  readonly metadata: JsonObject;
  /** The newest source's time, so the merged archive sorts where its content belongs: before live ones. */
  readonly createdAt: number;
}

export interface MergeArchivesProps {
  /** Messages kept in the merged archive, newest first kept (default 200). */
  readonly maxMessages?: number;
  /** Longest merged overview (default 8000 characters, newest text kept). */
  readonly maxOverviewChars?: number;
}

/**
 * Folds several archives (any order) into one: overviews oldest to newest, the newest non-empty
 * abstract (each abstract already chains its predecessors), the newest `maxMessages` messages, and
 * the source ids in metadata.
 */
export function mergeArchives(
  sources: readonly SessionArchive[],
  props: MergeArchivesProps = {},
): MergedArchive {
  const maxMessages = props.maxMessages ?? 200;
  const maxOverview = props.maxOverviewChars ?? 8000;
  const ordered = [...sources].sort(
    (a, b) => a.createdAt - b.createdAt || (a.archiveId < b.archiveId ? -1 : 1),
  );
  const fullOverview = ordered
    .map((archive) => archive.overview.trim())
    .filter(Boolean)
    .join("\n\n");
  const overview =
    fullOverview.length <= maxOverview ? fullOverview : fullOverview.slice(fullOverview.length - maxOverview);
  const abstract = [...ordered].reverse().find((archive) => archive.abstract.trim())?.abstract ?? "";
  const allMessages = ordered.flatMap((archive) => archive.messages);
  const messages = allMessages.slice(Math.max(0, allMessages.length - maxMessages));
  return {
    overview,
    abstract,
    messages,
    metadata: {
      mergedFrom: ordered.map((archive) => archive.archiveId),
      sourceMessageCount: allMessages.length,
      droppedMessageCount: allMessages.length - messages.length,
    },
    createdAt: ordered.reduce((max, archive) => Math.max(max, archive.createdAt), 0),
  };
}
