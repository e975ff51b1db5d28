import { randomUUID } from "node:crypto";
import {
  type AutoResetReason,
  buildSessionKey,
  type Clock,
  COMPRESSION_END_REASON,
  DEFAULT_RESUME_FRESHNESS_MS,
  decideRouting,
  EngramError,
  evaluateReset,
  formatSessionId,
  GATEWAY_END_REASONS,
  type ModelOverride,
  type NewTranscriptMessage,
  type ResetPolicy,
  type ResetPolicyConfig,
  type RoutingEntry,
  type RoutingIndex,
  resolveResetPolicy,
  type SessionIsolationProps,
  type SessionSource,
  systemClock,
  type TranscriptMessage,
  type TranscriptPeer,
  type TranscriptSession,
  type TranscriptSessionStamp,
  type TranscriptStore,
  type UtcOffset,
} from "@engram/core";

export interface SessionRouterProps {
  readonly routingIndex: RoutingIndex;
  readonly transcripts: TranscriptStore;
  /** Source of "now" for every policy decision (default: the system clock). */
  readonly clock?: Clock;
  readonly resetPolicies?: ResetPolicyConfig;
  /** Auto-continue window of a resume-pending session, from its resume mark (default 1 h). */
  readonly resumeFreshnessMs?: number;
  /** Local time zone of the daily reset boundary and of session ids (default UTC). */
  readonly utcOffset?: UtcOffset;
  readonly isolation?: SessionIsolationProps;
  /** Mints new session ids (default `YYYYMMDD_HHMMSS_<8 hex>`). Must never repeat. */
  readonly newSessionId?: (now: number) => string;
  /** Sessions with live background work are never auto-reset. */
  readonly hasActiveBackgroundWork?: (sessionKey: string) => boolean;
  /** Attempts before a routing call gives up under extreme contention (default 16). */
  readonly maxAttempts?: number;
}

export interface AutoResetInfo {
  readonly reason: AutoResetReason;
  /** Whether the expired session had any conversation. */
  readonly hadActivity: boolean;
}

/** Where a message goes. `created`: the session did not exist before this call. */
export interface SessionRoute {
  readonly sessionId: string;
  readonly sessionKey: string;
  readonly created: boolean;
  readonly autoReset?: AutoResetInfo;
  /** The session was resume-pending (interrupted by a restart) and continues. */
  readonly resumed?: boolean;
  /** The session this key left for good (auto or explicit reset): commit its memory now. */
  readonly previousSessionId?: string;
  /** The session's `/model` override (model, provider, base URL; never credentials). */
  readonly modelOverride?: ModelOverride;
  /** The session row's transcript stamp as routing read it (an existing session only). */
  readonly transcript?: TranscriptSessionStamp;
}

/** How a routing call ended; one label per outcome, for metrics. */
export type RoutingOutcome =
  | "reuse"
  | "resume"
  | "create"
  | "recover_peer"
  | "auto_reset"
  | "explicit_reset"
  | "switch"
  | "branch"
  | "heal_compression"
  | "drop_stale";

/** Thrown when routing lost every compare-and-set attempt; the caller may retry. */
export class RoutingContentionError extends EngramError {
  constructor(sessionKey: string, attempts: number) {
    super("CONFLICT", `Routing of ${JSON.stringify(sessionKey)} lost ${attempts} compare-and-set races`, {
      details: { sessionKey, attempts },
    });
    this.name = "RoutingContentionError";
  }
}

const isEnded = (row: TranscriptSession): boolean => row.endedAt !== null || row.endReason !== null;

/**
 * Get-or-create of gateway sessions over a {@link RoutingIndex} and a {@link TranscriptStore}
 * (seed 004 `get_or_create_session`, `reset_session`, `switch_session`).
 *
 * Guarantees:
 * - Every change of a key's session goes through the index's compare-and-set (`putIfAbsent`,
 *   `switchSession`); a lost race re-reads and re-decides, so concurrent routers (in one process or
 *   many) agree on one session per key and never both create.
 * - An index entry may briefly point at a session whose transcript row is not written yet (the entry
 *   is published first so only the winner creates); readers fill the row idempotently.
 * - A session ended by anything but a recoverable reason is never routed to again; explicit resets
 *   end the old row with `session_reset` so neither stale-route healing nor peer recovery brings it back.
 */
export class SessionRouter {
  readonly #index: RoutingIndex;
  readonly #transcripts: TranscriptStore;
  readonly #clock: Clock;
  readonly #resetPolicies: ResetPolicyConfig;
  readonly #resumeFreshnessMs: number;
  readonly #utcOffset: UtcOffset;
  readonly #isolation: SessionIsolationProps;
  readonly #newSessionId: (now: number) => string;
  readonly #hasActiveBackgroundWork: (sessionKey: string) => boolean;
  readonly #maxAttempts: number;
  /** Called once per routing outcome (metrics). */
  onOutcome: ((outcome: RoutingOutcome) => void) | undefined;

  constructor(props: SessionRouterProps) {
    this.#index = props.routingIndex;
    this.#transcripts = props.transcripts;
    this.#clock = props.clock ?? systemClock;
    this.#resetPolicies = props.resetPolicies ?? {};
    this.#resumeFreshnessMs = props.resumeFreshnessMs ?? DEFAULT_RESUME_FRESHNESS_MS;
    this.#utcOffset = props.utcOffset ?? 0;
    this.#isolation = props.isolation ?? {};
    this.#newSessionId =
      props.newSessionId ??
      ((now) => formatSessionId(now, randomUUID().replaceAll("-", "").slice(0, 8), this.#utcOffset));
    this.#hasActiveBackgroundWork = props.hasActiveBackgroundWork ?? (() => false);
    this.#maxAttempts = props.maxAttempts ?? 16;
  }

  /** A new session id minted now (compression children and other sessions made outside routing). */
  newSessionIdNow(): string {
    return this.#newSessionId(this.#clock.now());
  }

  /** The routing key of `source` under this router's isolation settings. */
  sessionKeyFor(source: SessionSource): string {
    return buildSessionKey(source, { ...this.#isolation, profile: source.profile });
  }

  /** The reset policy that governs `source`. */
  policyFor(source: SessionSource): ResetPolicy {
    return resolveResetPolicy(this.#resetPolicies, source);
  }

  /** Whether a session of `source` last active at `lastActivityAt` has expired under its reset policy now. */
  isExpired(source: SessionSource, lastActivityAt: number): boolean {
    return evaluateReset({
      policy: this.policyFor(source),
      lastActivityAt,
      now: this.#clock.now(),
      utcOffset: this.#utcOffset,
      hasActiveBackgroundWork: this.#hasActiveBackgroundWork(this.sessionKeyFor(source)),
    }).reset;
  }

  /**
   * The session the next message from `source` belongs to, creating, recovering, healing or
   * resetting as the routing rules require (see `decideRouting` for the order of the checks).
   */
  async getOrCreateSession(source: SessionSource): Promise<SessionRoute> {
    const sessionKey = this.sessionKeyFor(source);
    const policy = this.policyFor(source);
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const entry = await this.#index.get(sessionKey);
      const route = entry
        ? await this.#routeExisting(source, sessionKey, policy, entry)
        : await this.#routeAbsent(source, sessionKey, policy);
      if (route) return route;
    }
    throw new RoutingContentionError(sessionKey, this.#maxAttempts);
  }

  /**
   * Explicit `/new` / `/reset`: routes the key to a brand-new session and ends the old one with
   * `session_reset`. Without an entry, the peer's latest recoverable session is ended too, so
   * recovery never resurrects what the user reset. Returns the new route and the session left.
   */
  async resetSession(source: SessionSource): Promise<SessionRoute> {
    const sessionKey = this.sessionKeyFor(source);
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const entry = await this.#index.get(sessionKey);
      const now = this.#clock.now();
      const sessionId = this.#newSessionId(now);
      if (entry) {
        const result = await this.#index.switchSession(sessionKey, entry.sessionId, sessionId, {
          isFreshReset: true,
        });
        if (!result.switched) continue;
        // A route left on a compressed parent means the conversation lives on in its tip: end that.
        const left = (await this.#transcripts.getCompressionTip(entry.sessionId)) ?? entry.sessionId;
        await this.#endSafely(left, GATEWAY_END_REASONS.sessionReset);
        await this.#createRow(sessionId, source, sessionKey);
        this.onOutcome?.("explicit_reset");
        return { sessionId, sessionKey, created: true, previousSessionId: left };
      }
      const latest = await this.#findPeerSession(source, sessionKey);
      const put = await this.#index.putIfAbsent({
        sessionKey,
        sessionId,
        origin: source,
        displayName: source.chatName ?? null,
        isFreshReset: true,
      });
      if (!put.created) continue;
      if (latest) await this.#endSafely(latest.id, GATEWAY_END_REASONS.sessionReset);
      await this.#createRow(sessionId, source, sessionKey);
      this.onOutcome?.("explicit_reset");
      return {
        sessionId,
        sessionKey,
        created: true,
        ...(latest ? { previousSessionId: latest.id } : {}),
      };
    }
    throw new RoutingContentionError(sessionKey, this.#maxAttempts);
  }

  /**
   * `/resume <id>`: routes the key to an earlier session of the same peer, reopening it, and ends
   * the one it left with `session_switch`. Unlike automatic healing this is the user's explicit
   * choice, so a session ended by `/new` may be resumed. A compressed session resumes at its
   * compression tip. The target must belong to this key (no cross-user bleed), else `NOT_FOUND`.
   */
  async switchSession(source: SessionSource, requestedSessionId: string): Promise<SessionRoute> {
    const sessionKey = this.sessionKeyFor(source);
    const requested = await this.#transcripts.getSession(requestedSessionId);
    if (!requested || requested.sessionKey !== sessionKey) {
      throw new EngramError(
        "NOT_FOUND",
        `Session ${JSON.stringify(requestedSessionId)} is not one of this chat's`,
        { details: { kind: "session", id: requestedSessionId } },
      );
    }
    const targetSessionId =
      requested.endReason === COMPRESSION_END_REASON
        ? ((await this.#transcripts.getCompressionTip(requestedSessionId)) ?? requestedSessionId)
        : requestedSessionId;
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const entry = await this.#index.get(sessionKey);
      if (entry) {
        const result = await this.#index.switchSession(sessionKey, entry.sessionId, targetSessionId);
        if (!result.switched) continue;
        if (entry.sessionId !== targetSessionId) {
          await this.#endSafely(entry.sessionId, GATEWAY_END_REASONS.sessionSwitch);
        }
      } else {
        const put = await this.#index.putIfAbsent({ sessionKey, sessionId: targetSessionId, origin: source });
        if (!put.created) continue;
      }
      await this.#transcripts.reopenSession(targetSessionId);
      this.onOutcome?.("switch");
      const left = entry && entry.sessionId !== targetSessionId ? entry.sessionId : undefined;
      return {
        sessionId: targetSessionId,
        sessionKey,
        created: false,
        ...(left ? { previousSessionId: left } : {}),
      };
    }
    throw new RoutingContentionError(sessionKey, this.#maxAttempts);
  }

  /**
   * `/branch [title]`: copies the active transcript of the key's session into a new child session
   * (`parentSessionId` = the branched one) and routes the key to it; the parent ends with
   * `session_switch` and stays resumable with `/resume`. The caller holds the key's turn slot, so no
   * message of this key lands between the switch and the copy.
   *
   * @throws EngramError `NOT_FOUND` when the key has no session to branch.
   */
  async branchSession(source: SessionSource, props: { readonly title?: string } = {}): Promise<SessionRoute> {
    const sessionKey = this.sessionKeyFor(source);
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const entry = await this.#index.get(sessionKey);
      if (!entry) {
        throw new EngramError("NOT_FOUND", "This chat has no session to branch yet", {
          details: { kind: "session", sessionKey },
        });
      }
      const parentId = (await this.#transcripts.getCompressionTip(entry.sessionId)) ?? entry.sessionId;
      const parent = await this.#transcripts.getSession(parentId);
      const branchId = this.#newSessionId(this.#clock.now());
      const result = await this.#index.switchSession(sessionKey, entry.sessionId, branchId, {
        displayName: entry.displayName,
      });
      if (!result.switched) continue;
      const base = props.title?.trim() || (parent?.title ? `${parent.title} (branch)` : null);
      await this.#transcripts.createSession({
        id: branchId,
        ...this.#peer(source, sessionKey),
        parentSessionId: parentId,
        title: base === null ? null : await this.#transcripts.nextAvailableTitle(base),
      });
      const messages = await this.#transcripts.getMessages(parentId);
      await this.#transcripts.replaceMessages(branchId, messages.map(toNewMessage));
      await this.#endSafely(parentId, GATEWAY_END_REASONS.sessionSwitch);
      this.onOutcome?.("branch");
      return { sessionId: branchId, sessionKey, created: true, previousSessionId: parentId };
    }
    throw new RoutingContentionError(sessionKey, this.#maxAttempts);
  }

  /** One attempt on a key that has an entry; `undefined` means a race was lost: re-read and retry. */
  async #routeExisting(
    source: SessionSource,
    sessionKey: string,
    policy: ResetPolicy,
    entry: RoutingEntry,
  ): Promise<SessionRoute | undefined> {
    let sessionId = entry.sessionId;
    let row = await this.#readRow(sessionId, source, sessionKey);
    if (row?.endReason === COMPRESSION_END_REASON) {
      const tip = await this.#transcripts.getCompressionTip(sessionId);
      if (tip && tip !== sessionId) {
        if (!(await this.#healTo(sessionKey, entry, tip))) return undefined;
        this.onOutcome?.("heal_compression");
        sessionId = tip;
        row = await this.#readRow(tip, source, sessionKey);
      }
    }
    const now = this.#clock.now();
    const decision = decideRouting({
      state: {
        updatedAt: entry.updatedAt,
        suspended: entry.suspended,
        resumePending: entry.resumePending,
        lastResumeMarkedAt: entry.resumeMarkedAt ?? undefined,
        endedInStore: row === undefined || isEnded(row),
      },
      policy,
      now,
      resumeFreshnessMs: this.#resumeFreshnessMs,
      utcOffset: this.#utcOffset,
      hasActiveBackgroundWork: this.#hasActiveBackgroundWork(sessionKey),
    });
    if (decision.action === "recover") {
      // Stale route: the session ended under it (another gateway, a crash between end and switch).
      await this.#index.delete(sessionKey, { expectedSessionId: sessionId });
      this.onOutcome?.("drop_stale");
      return undefined;
    }
    if (decision.action === "reset") {
      const hadActivity = entry.lastPromptTokens > 0 || (row?.messageCount ?? 0) > 0;
      const newId = this.#newSessionId(now);
      const result = await this.#index.switchSession(sessionKey, sessionId, newId, {
        wasAutoReset: true,
        autoResetReason: decision.reason,
        resetHadActivity: hadActivity,
      });
      if (!result.switched) return undefined;
      await this.#endSafely(sessionId, GATEWAY_END_REASONS.sessionReset);
      await this.#createRow(newId, source, sessionKey);
      this.onOutcome?.("auto_reset");
      return {
        sessionId: newId,
        sessionKey,
        created: true,
        autoReset: { reason: decision.reason, hadActivity },
        previousSessionId: sessionId,
      };
    }
    const touched = await this.#index.patch(sessionKey, { touch: true }, { expectedSessionId: sessionId });
    if (!touched) return undefined;
    this.onOutcome?.(entry.resumePending ? "resume" : "reuse");
    return {
      sessionId,
      sessionKey,
      created: false,
      ...(entry.resumePending ? { resumed: true } : {}),
      ...(entry.modelOverride ? { modelOverride: entry.modelOverride } : {}),
      ...(row ? { transcript: { messageCount: row.messageCount, updatedAt: row.updatedAt } } : {}),
    };
  }

  /** No entry: recover the peer's latest recoverable session (policy permitting), else create. */
  async #routeAbsent(
    source: SessionSource,
    sessionKey: string,
    policy: ResetPolicy,
  ): Promise<SessionRoute | undefined> {
    const now = this.#clock.now();
    const latest = await this.#findPeerSession(source, sessionKey);
    let autoReset: AutoResetInfo | undefined;
    if (latest) {
      const expiry = evaluateReset({
        policy,
        lastActivityAt: latest.updatedAt,
        now,
        utcOffset: this.#utcOffset,
        hasActiveBackgroundWork: this.#hasActiveBackgroundWork(sessionKey),
      });
      if (!expiry.reset) {
        const put = await this.#index.putIfAbsent({
          sessionKey,
          sessionId: latest.id,
          origin: source,
          displayName: source.chatName ?? null,
        });
        if (!put.created) return undefined;
        if (isEnded(latest)) await this.#transcripts.reopenSession(latest.id);
        this.onOutcome?.("recover_peer");
        return { sessionId: latest.id, sessionKey, created: false };
      }
      autoReset = { reason: expiry.reason, hadActivity: latest.messageCount > 0 };
    }
    const sessionId = this.#newSessionId(now);
    const put = await this.#index.putIfAbsent({
      sessionKey,
      sessionId,
      origin: source,
      displayName: source.chatName ?? null,
      ...(autoReset
        ? { wasAutoReset: true, autoResetReason: autoReset.reason, resetHadActivity: autoReset.hadActivity }
        : {}),
    });
    if (!put.created) return undefined;
    // Only the winner of putIfAbsent writes rows, so racing first messages leave no orphans.
    if (latest && autoReset) await this.#endSafely(latest.id, GATEWAY_END_REASONS.sessionReset);
    await this.#createRow(sessionId, source, sessionKey);
    this.onOutcome?.(autoReset ? "auto_reset" : "create");
    return {
      sessionId,
      sessionKey,
      created: true,
      ...(autoReset && latest ? { autoReset, previousSessionId: latest.id } : {}),
    };
  }

  /**
   * Moves the entry from a compressed parent to its tip, keeping the entry's flags: `switchSession`
   * resets them, so the ones that must survive a heal are written back while it still routes to the tip.
   */
  async #healTo(sessionKey: string, entry: RoutingEntry, tip: string): Promise<boolean> {
    const result = await this.#index.switchSession(sessionKey, entry.sessionId, tip, {
      displayName: entry.displayName,
    });
    if (!result.switched) return false;
    await this.#index.patch(
      sessionKey,
      {
        touch: false,
        suspended: entry.suspended,
        resumePending: entry.resumePending,
        resumeReason: entry.resumeReason,
        resumeMarkedAt: entry.resumeMarkedAt,
        lastPromptTokens: entry.lastPromptTokens,
        modelOverride: entry.modelOverride,
      },
      { expectedSessionId: tip },
    );
    return true;
  }

  /**
   * The transcript row of a routed session. A missing row is either still being written by the
   * router that published the entry, or deleted: the idempotent create fills the first case, and a
   * deleted row stays invisible, which routing then treats as ended.
   */
  async #readRow(sessionId: string, source: SessionSource, sessionKey: string) {
    const row = await this.#transcripts.getSession(sessionId);
    if (row) return row;
    await this.#createRow(sessionId, source, sessionKey);
    return this.#transcripts.getSession(sessionId);
  }

  async #createRow(sessionId: string, source: SessionSource, sessionKey: string): Promise<void> {
    await this.#transcripts.createSession({ id: sessionId, ...this.#peer(source, sessionKey) });
  }

  async #endSafely(sessionId: string, reason: string): Promise<void> {
    // First writer wins in the store: an earlier end (compression, another reset) keeps its reason.
    const row = await this.#transcripts.getSession(sessionId);
    if (row) await this.#transcripts.endSession(sessionId, reason);
  }

  /** The key carries the isolation (user, chat, thread), so it alone names the peer: in a shared thread every participant recovers the same session. */
  #findPeerSession(source: SessionSource, sessionKey: string): Promise<TranscriptSession | undefined> {
    return this.#transcripts.findLatestSessionForPeer({ source: source.platform, sessionKey });
  }

  #peer(source: SessionSource, sessionKey: string): TranscriptPeer & { source: string } {
    return {
      source: source.platform,
      sessionKey,
      userId: source.userIdAlt ?? source.userId ?? null,
      chatId: source.chatId || null,
      chatType: source.chatType,
      threadId: source.threadId ?? null,
    };
  }
}

/** A stored message as a new one for another session (a branch copy). */
function toNewMessage(m: TranscriptMessage): NewTranscriptMessage {
  return {
    role: m.role,
    content: m.content,
    parts: m.parts,
    toolName: m.toolName,
    toolCalls: m.toolCalls,
    toolResults: m.toolResults,
    toolCallId: m.toolCallId,
    reasoning: m.reasoning,
    reasoningDetails: m.reasoningDetails,
    platformMessageId: m.platformMessageId,
    observed: m.observed,
    createdAt: m.createdAt,
  };
}
