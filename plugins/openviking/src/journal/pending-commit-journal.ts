/**
 * The durable "synced but not committed" marker. The provider records a session here when a turn reaches
 * the server and clears it once the session is committed, so a session whose process died between the
 * two is still committed: the next process claims the leftover markers at start and commits them once.
 *
 * Markers carry a sequence number: clearing takes the sequence the commit covered, so a turn synced after
 * the commit began keeps its marker.
 */
export interface PendingCommitJournal {
  /** Records that `sessionId` has messages on the server since its last commit; returns the marker's sequence. */
  markSynced(sessionId: string): Promise<number>;
  /** Clears the marker if nothing was synced after `sequence` (the commit covered everything). */
  markCommitted(sessionId: string, sequence: number): Promise<void>;
  /**
   * Takes over the markers left by other instances (processes that died, or stopped without committing)
   * and returns them, each with the sequence now owned by this instance. Each marker is handed to one
   * claimer only, even when several processes start together.
   */
  claimLeftovers(): Promise<readonly ClaimedMarker[]>;
}

export interface ClaimedMarker {
  readonly sessionId: string;
  readonly sequence: number;
}

/** The journal of one process: nothing survives it, so there are never leftovers to claim. */
export class InMemoryPendingCommitJournal implements PendingCommitJournal {
  readonly #sequences = new Map<string, number>();
  #next = 0;

  async markSynced(sessionId: string): Promise<number> {
    const sequence = ++this.#next;
    this.#sequences.set(sessionId, sequence);
    return sequence;
  }

  async markCommitted(sessionId: string, sequence: number): Promise<void> {
    if ((this.#sequences.get(sessionId) ?? Number.POSITIVE_INFINITY) <= sequence)
      this.#sequences.delete(sessionId);
  }

  async claimLeftovers(): Promise<readonly ClaimedMarker[]> {
    return [];
  }

  /** Sessions with a marker (for tests and diagnostics). */
  pendingSessions(): string[] {
    return [...this.#sequences.keys()];
  }
}
