import {
  type CommitOutcome,
  type CommittableAgent,
  ContentTooLargeError,
  EngramError,
  InvalidArgumentError,
  type Logger,
  type MemoryCommitCoordinator,
  noopLogger,
  type PlatformMessageRecord,
  parseSessionSource,
  type RoutingEntry,
  type RoutingIndex,
  type SessionKeyLock,
  type SessionSource,
  type TranscriptMessage,
  type TranscriptRole,
  type TranscriptSession,
  type TranscriptStore,
} from "@engram/core";
import { parseGatewayCommand } from "../commands/gateway-command.js";
import { SessionCommands, type SwitchReason } from "../commands/session-commands.js";
import type { SessionRoute, SessionRouter } from "../routing/session-router.js";
import type { SessionRuntimeObserver } from "../runtime/runtime-observer.js";
import { KeyedSerialQueue } from "./keyed-serial-queue.js";
import { RecentTranscripts } from "./recent-transcripts.js";
import { autoResetNote } from "./reset-notices.js";
import type { TurnReply } from "./turn-reply.js";
import type { CompletedTurn, TurnInput, TurnOutput, TurnRunner } from "./turn-runner.js";

export type { TurnReply } from "./turn-reply.js";

/** Default cap on one inbound message's text, in UTF-8 bytes. */
export const DEFAULT_MAX_TEXT_BYTES = 64 * 1024;
const MAX_MESSAGE_ID_LENGTH = 256;
const DEFAULT_RECENT_TRANSCRIPTS = 128;
/** Segments one sweep commits of an unattended session at most (each is one crashed agent's turns). */
const MAX_UNATTENDED_SEGMENTS = 64;
/** Default longest wait of a retry for its original turn: one model request's timeout. */
export const DEFAULT_DUPLICATE_WAIT_MS = 120_000;

/** One inbound platform message, as untrusted input. */
export interface InboundMessage {
  readonly source: unknown;
  readonly text: unknown;
  /**
   * Platform message id: a repeat on the same session key (in any of its sessions, so also after a
   * `/new`) is a retry; it is answered with the original's reply and never stored or run again.
   */
  readonly messageId?: unknown;
  /** Epoch ms the platform stamped the message with. */
  readonly timestamp?: unknown;
  /**
   * Called once nothing is lost if the process dies now: the user's message is in the transcript (or
   * was already, a repeat), or a command has run. A webhook answers its platform only then, so a
   * platform that got its acknowledgement never has to redeliver. Not called when `handle` fails first.
   */
  readonly onStored?: () => void;
  /**
   * Receives what the agent does while this message's turn runs (text deltas, tool calls, usage), as
   * `SessionRuntime.runSessionTurn`'s `onEvent` does: a client streams the reply as it is produced.
   * Never called for a command or for a repeat answered with the reply already given.
   */
  readonly onEvent?: TurnInput["onEvent"];
}

/** The callbacks of an {@link InboundMessage} its turn calls back. */
type TurnHooks = Pick<InboundMessage, "onStored" | "onEvent">;

/** How {@link SessionTurnHandler.continueInterrupted} ended. */
export type ContinuationOutcome =
  | {
      readonly status: "continued";
      readonly sessionId: string;
      readonly reply: string;
      /** Whether `deliver` sent the reply (false: no adapter for the platform; it is in the transcript). */
      readonly delivered: boolean;
    }
  | {
      readonly status: "skipped";
      /**
       * `not_pending`: by its turn the key no longer routed to that session resume-pending (a message
       * or another process resumed it, or it was reset / suspended); `no_origin`: nothing to route a
       * reply to; `nothing_to_continue`: the transcript ends with an assistant reply (the turn completed
       * before the stop); the flag is left to the router. `stopped`: `/stop` interrupted it.
       */
      readonly reason: "not_pending" | "no_origin" | "nothing_to_continue" | "stopped";
    };

export interface ContinueInterruptedProps {
  /** The system note the model gets as the turn's input; persisted as a `system` message. */
  readonly note: string;
  /** Sends the reply to the chat; resolves false when the platform has no adapter. */
  readonly deliver?: (source: SessionSource, reply: string) => Promise<boolean>;
  /** Wraps the turn once it is the key's turn (a concurrency limit over all continuations). */
  readonly throttle?: <T>(turn: () => Promise<T>) => Promise<T>;
}

export interface SessionTurnHandlerProps {
  readonly router: SessionRouter;
  readonly routingIndex: RoutingIndex;
  readonly transcripts: TranscriptStore;
  readonly runner: TurnRunner;
  readonly coordinator: MemoryCommitCoordinator;
  /**
   * Excludes turns of one session key across processes sharing the database (each process already
   * runs a key's turns one at a time). Default: none, for a single process.
   */
  readonly keyLock?: SessionKeyLock;
  /** Told what the pipeline does (the gateway's metrics). */
  readonly observer?: SessionRuntimeObserver;
  readonly maxTextBytes?: number;
  /** Longest wait for the commit of a session left for good, in ms (default 30000). */
  readonly boundaryCommitTimeoutMs?: number;
  /** What the model is told about where the session runs (seed 004 session context prompt). */
  readonly sessionContext?: (source: SessionSource) => string;
  /** Whether `/model` can switch this gateway's model (a model endpoint is configured). */
  readonly modelSwitchable?: boolean;
  /** Sessions whose transcript is kept in memory between turns (default 128; 0 reads it every turn). */
  readonly recentTranscripts?: number;
  /** Where memory left uncommitted at a boundary is reported (default: dropped). */
  readonly logger?: Logger;
  /**
   * Longest wait of a retried message for its original turn, still running here or in another
   * process, in ms (default {@link DEFAULT_DUPLICATE_WAIT_MS}); after it the retry answers `pending`.
   */
  readonly duplicateWaitMs?: number;
  /**
   * Where a stored session's messages came from, for a session whose memory this host commits when
   * its agent is gone (a crash); `undefined` for another host's session in a shared database. Default:
   * the sessions a router created (they have a session key), as the router recorded their source.
   */
  readonly adoptable?: (row: TranscriptSession) => SessionSource | undefined;
}

/**
 * The turn pipeline of one inbound message: validate, route, persist the user message, run the
 * agent, persist the reply, record the completed turn. Turns of one session key run one at a time in
 * arrival order; a message arriving during a turn waits for it, and is never dropped or run twice.
 * A message whose platform id the key received before (in any of its sessions, in any process) is a
 * retry: it is answered with the original's reply, after waiting (bounded) for a turn still running,
 * and never stored or run again.
 * Commands run in the same per-key order, except `/stop`, which interrupts the running turn at once.
 * Memory is committed only when a session is left for good, never per turn.
 */
export class SessionTurnHandler {
  readonly #props: SessionTurnHandlerProps;
  readonly #queue = new KeyedSerialQueue();
  readonly #maxTextBytes: number;
  readonly #commands: SessionCommands;
  /** Sessions left with a failed commit: retried at every later boundary until one succeeds. */
  readonly #failedLeaves = new Set<string>();
  /** Transcripts of recently served sessions, valid while their session row is unchanged. */
  readonly #recent: RecentTranscripts;
  /** The running turn of each key, for `/stop`. */
  readonly #running = new Map<string, AbortController>();
  readonly #log: Logger;
  /**
   * Messages with a platform id this process is handling, by {@link deliveryKey}: a retry arriving
   * meanwhile waits for the original and answers with its reply.
   */
  readonly #deliveries = new Map<string, Promise<TurnReply>>();
  readonly #duplicateWaitMs: number;

  constructor(props: SessionTurnHandlerProps) {
    this.#props = props;
    this.#log = props.logger ?? noopLogger;
    this.#maxTextBytes = props.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
    this.#recent = new RecentTranscripts(props.recentTranscripts ?? DEFAULT_RECENT_TRANSCRIPTS);
    this.#duplicateWaitMs = props.duplicateWaitMs ?? DEFAULT_DUPLICATE_WAIT_MS;
    this.#commands = new SessionCommands({
      router: props.router,
      routingIndex: props.routingIndex,
      transcripts: props.transcripts,
      runner: props.runner,
      ...(props.observer ? { observer: props.observer } : {}),
      leaveSession: (sessionId) => this.leaveSession(sessionId),
      switched: (route, source, how) => this.#switched(route, source, how),
      route: (source) => this.#route(source),
      modelSwitchable: props.modelSwitchable ?? false,
    });
  }

  /** Session keys with a turn queued or running (a graceful stop marks them resume-pending). */
  busyKeys(): string[] {
    return this.#queue.keys();
  }

  /**
   * Continues a session a restart interrupted (restart recovery): queued on the key's lane now, so a
   * message for the key arriving later runs after it. When its turn comes and the key still routes to
   * `entry.sessionId` resume-pending, the note is persisted as a `system` message, the runner answers
   * it, the reply is persisted, delivered, the turn recorded and resume-pending cleared.
   */
  continueInterrupted(entry: RoutingEntry, props: ContinueInterruptedProps): Promise<ContinuationOutcome> {
    const throttle = props.throttle ?? (<T>(turn: () => Promise<T>) => turn());
    const run = this.#queue.run(entry.sessionKey, () =>
      throttle(() => this.#locked(entry.sessionKey, () => this.#continue(entry, props))),
    );
    this.#props.observer?.queueDepth?.(this.#queue.depth);
    return run.finally(() => this.#props.observer?.queueDepth?.(this.#queue.depth));
  }

  /**
   * Runs a queued task holding the key's cross-process lock, when one is configured. Taken inside the
   * queue's task, so only the key's head of line (never its local waiters) asks for it.
   */
  #locked<T>(sessionKey: string, work: () => Promise<T>): Promise<T> {
    const keyLock = this.#props.keyLock;
    return keyLock ? keyLock.withLock(sessionKey, work) : work();
  }

  async #continue(entry: RoutingEntry, props: ContinueInterruptedProps): Promise<ContinuationOutcome> {
    const { routingIndex, transcripts } = this.#props;
    const { sessionKey, sessionId } = entry;
    const current = await routingIndex.get(sessionKey);
    const row = await transcripts.getSession(sessionId);
    if (
      !current?.resumePending ||
      current.suspended ||
      current.sessionId !== sessionId ||
      !row ||
      row.endedAt !== null ||
      row.endReason !== null
    ) {
      return { status: "skipped", reason: "not_pending" };
    }
    const source = current.origin;
    if (!source) return { status: "skipped", reason: "no_origin" };
    const history = await transcripts.getMessages(sessionId);
    const last = history.at(-1);
    // The turn had completed before the stop: nothing to continue. The flag stays for the router
    // (the next message resumes, or the freshness window expires it), as without a restore.
    if (!last || last.role === "assistant") {
      await this.#recordUnmarkedTurns(row);
      return { status: "skipped", reason: "nothing_to_continue" };
    }
    await transcripts.appendMessage(sessionId, { role: "system", content: props.note });
    // Registered like any turn, so `/stop` interrupts a continuation too.
    const output = await this.#runStoppable({
      sessionId,
      sessionKey,
      source,
      text: props.note,
      history,
      systemNotes: this.#props.sessionContext ? [this.#props.sessionContext(source)] : [],
      ...(current.modelOverride ? { modelOverride: current.modelOverride } : {}),
      onCompleted: (completed) => this.#saveCompleted(sessionId, completed),
    });
    // Stopped: the note stays, nothing else is saved; the key stays resume-pending for the router.
    if (!output.completed) return { status: "skipped", reason: "stopped" };
    await routingIndex.clearResumePending(sessionKey);
    const delivered = (await props.deliver?.(source, output.reply)) ?? false;
    return { status: "continued", sessionId, reply: output.reply, delivered };
  }

  /**
   * A reply is saved before its turn is marked completed (only a saved turn may be committed), so a
   * process killed between the two leaves a completed turn the ledger never counted: if it was the
   * session's last, no commit would ever take it to memory. Runs on an interrupted session's lane,
   * under its key's lock (no turn of it runs meanwhile): every reply of a session the router created
   * is one marked turn, so a shortfall is exactly the turns to record now. Sessions that began with
   * copied messages (branches, compression children) are left alone: their replies are not their turns.
   */
  async #recordUnmarkedTurns(row: TranscriptSession): Promise<void> {
    if (row.parentSessionId !== null) return;
    const { transcripts, coordinator } = this.#props;
    const messages = await transcripts.getMessages(row.id, { includeInactive: true });
    const replies = messages.filter((m) => m.role === "assistant").length;
    const missing = replies - (await coordinator.generationOf(row.id));
    if (missing <= 0) return;
    for (let turn = 0; turn < missing; turn++) await coordinator.markTurnCompleted(row.id);
    this.#log.info(
      { sessionId: row.id, turns: missing },
      "recorded completed turns a crash left unmarked, so their memory is committed",
    );
  }

  /** Turns queued or running over all keys. */
  get queueDepth(): number {
    return this.#queue.depth;
  }

  /**
   * @throws InvalidArgumentError / InvalidIdError on malformed input, ContentTooLargeError on text
   *   over the limit; nothing has been written then.
   */
  async handle(message: InboundMessage): Promise<TurnReply> {
    const { router } = this.#props;
    const source = parseSessionSource(message.source);
    const text = this.#validateText(message.text);
    const messageId = validateMessageId(message.messageId);
    const timestamp = validateTimestamp(message.timestamp);
    const sessionKey = router.sessionKeyFor(source);
    const command = parseGatewayCommand(text);
    if (command?.name === "stop") {
      const stopped = await this.#stop(sessionKey);
      message.onStored?.();
      return stopped;
    }
    const observer = this.#props.observer;
    const run = command
      ? this.#enqueue(sessionKey, () => this.#commands.run(command, source))
      : messageId === undefined
        ? this.#enqueue(sessionKey, () => this.#turn(source, sessionKey, text, undefined, timestamp, message))
        : this.#deliver(source, sessionKey, text, messageId, timestamp, message);
    try {
      const reply = await run;
      // A command's effect is durable once it ran (a message turn said so when its message was saved).
      message.onStored?.();
      observer?.turn?.(reply.duplicate ? "duplicate" : reply.stopped ? "stopped" : "completed");
      return reply;
    } catch (error) {
      observer?.turn?.("failed");
      throw error;
    } finally {
      observer?.queueDepth?.(this.#queue.depth);
      observer?.cachedAgents?.(this.#props.runner.cachedAgents);
    }
  }

  /** Queues `work` on the key's lane, holding the key's cross-process lock while it runs. */
  #enqueue<T>(sessionKey: string, work: () => Promise<T>): Promise<T> {
    const run = this.#queue.run(sessionKey, () => this.#locked(sessionKey, work));
    this.#props.observer?.queueDepth?.(this.#queue.depth);
    return run;
  }

  /**
   * A message with a platform id. A retry of one this process is still handling waits for that
   * original and answers with its reply; a retry of one delivered before (in any session of the key,
   * by any process) answers with the stored reply; anything else runs as a turn, whose append is the
   * last word should a retry slip past both (the store stores an id once per key).
   */
  #deliver(
    source: SessionSource,
    sessionKey: string,
    text: string,
    messageId: string,
    timestamp: number | undefined,
    hooks: TurnHooks,
  ): Promise<TurnReply> {
    const key = deliveryKey(sessionKey, messageId);
    // Read and registered without an await in between: of racing deliveries exactly one registers.
    const original = this.#deliveries.get(key);
    if (original) return this.#retryOf(original, source, sessionKey, text, messageId, timestamp, hooks);
    const delivery = this.#deliverOnce(source, sessionKey, text, messageId, timestamp, hooks);
    this.#deliveries.set(key, delivery);
    const forget = () => {
      if (this.#deliveries.get(key) === delivery) this.#deliveries.delete(key);
    };
    delivery.then(forget, forget);
    return delivery;
  }

  /** A retry of a delivery this process is handling: its answer, once it has one (bounded). */
  async #retryOf(
    original: Promise<TurnReply>,
    source: SessionSource,
    sessionKey: string,
    text: string,
    messageId: string,
    timestamp: number | undefined,
    hooks: TurnHooks,
  ): Promise<TurnReply> {
    const settled = await this.#within(
      original.then(
        (reply) => ({ reply }),
        () => undefined,
      ),
    );
    if (settled === TIMED_OUT) return this.#pendingDuplicate(sessionKey, messageId);
    // The original failed: whatever it stored (maybe its message, maybe nothing) decides this one.
    if (settled === undefined)
      return this.#deliverOnce(source, sessionKey, text, messageId, timestamp, hooks);
    const { reply } = settled;
    if (reply.duplicate) return reply;
    return {
      sessionId: reply.sessionId,
      sessionKey,
      reply: reply.reply,
      duplicate: true,
      ...(reply.stopped ? { stopped: true } : {}),
    };
  }

  /**
   * A delivery no turn of this process is handling. Its lane task is queued at once, so the key's
   * messages keep their arrival order whatever the lookup's latency; the lookup runs meanwhile.
   */
  async #deliverOnce(
    source: SessionSource,
    sessionKey: string,
    text: string,
    messageId: string,
    timestamp: number | undefined,
    hooks: TurnHooks,
  ): Promise<TurnReply> {
    const { transcripts } = this.#props;
    const lookup = transcripts.findPlatformMessage(sessionKey, messageId);
    let answered = false;
    const inLane = this.#enqueue(sessionKey, async (): Promise<TurnReply> => {
      const earlier = await lookup;
      if (!earlier) return this.#turn(source, sessionKey, text, messageId, timestamp, hooks);
      if (answered) return duplicateOf(earlier);
      // This task holds the key (here and, through the key lock, in every process): every turn of the
      // key that began before it is over, so what is stored now is final.
      return duplicateOf((await transcripts.findPlatformMessage(sessionKey, messageId)) ?? earlier);
    });
    // A failed lookup fails the lane task too, which reports it.
    const earlier = await lookup.catch(() => undefined);
    if (!earlier) return inLane;
    // Answered before the lane task runs: its outcome no longer matters to anyone.
    const leave = (answer: TurnReply) => {
      answered = true;
      inLane.catch(() => undefined);
      return answer;
    };
    if (earlier.reply) return leave(duplicateOf(earlier));
    // Delivered, not answered (yet): its turn may still run, in another process or as a restart
    // continuation here. The lane task answers once it is over; wait for that, but not for ever.
    const settled = await this.#within(inLane);
    return settled === TIMED_OUT ? leave({ ...duplicateOf(earlier), pending: true }) : settled;
  }

  /** A retry whose original was still running when the wait ended. */
  async #pendingDuplicate(sessionKey: string, messageId: string): Promise<TurnReply> {
    const earlier = await this.#props.transcripts.findPlatformMessage(sessionKey, messageId);
    if (earlier) return { ...duplicateOf(earlier), pending: true };
    // Not even stored yet: the original waits behind other turns of the key.
    const entry = await this.#props.routingIndex.get(sessionKey);
    return { sessionId: entry?.sessionId ?? "", sessionKey, reply: null, duplicate: true, pending: true };
  }

  /** `work`'s outcome, or {@link TIMED_OUT} once `duplicateWaitMs` passed first. */
  async #within<T>(work: Promise<T>): Promise<T | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.#duplicateWaitMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #turn(
    source: SessionSource,
    sessionKey: string,
    text: string,
    messageId: string | undefined,
    timestamp: number | undefined,
    hooks: TurnHooks,
  ): Promise<TurnReply> {
    const { transcripts, routingIndex } = this.#props;
    const route = await this.#route(source);
    const { sessionId } = route;
    const base = { sessionId, sessionKey, ...(route.autoReset ? { autoReset: route.autoReset } : {}) };
    const history =
      this.#recent.get(sessionId, route.transcript) ?? (await transcripts.getMessages(sessionId));
    const userMessage = {
      role: "user" as const,
      content: text,
      platformMessageId: messageId ?? null,
      ...(timestamp === undefined ? {} : { createdAt: timestamp }),
    };
    const appended = await transcripts.appendMessage(sessionId, userMessage);
    hooks.onStored?.();
    if (appended.duplicate) {
      // A retry that slipped past the check before the queue (it raced its original, here or in
      // another process). This task holds the key, so the original's turn is over: its record is final.
      const earlier =
        messageId === undefined ? undefined : await transcripts.findPlatformMessage(sessionKey, messageId);
      return earlier
        ? duplicateOf(earlier)
        : { sessionId: appended.existingSessionId ?? sessionId, sessionKey, reply: null, duplicate: true };
    }
    const transcript = [...history, heldMessage(sessionId, appended.messageId, userMessage)];
    const systemNotes = [
      ...(this.#props.sessionContext ? [this.#props.sessionContext(source)] : []),
      ...(route.autoReset ? [autoResetNote(route.autoReset)] : []),
      ...(route.resumed ? [RESUMED_NOTE] : []),
    ];
    const output = await this.#runStoppable({
      sessionId,
      sessionKey,
      source,
      text,
      history,
      systemNotes,
      ...(route.modelOverride ? { modelOverride: route.modelOverride } : {}),
      ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}),
      onCompleted: (completed) => this.#saveCompleted(sessionId, completed, transcript),
    });
    // Stopped: the user's message stays, nothing else of the turn is saved or counted.
    if (!output.completed) return { ...base, reply: null, stopped: true };
    if (route.resumed) await routingIndex.clearResumePending(sessionKey);
    return { ...base, reply: output.reply };
  }

  /**
   * The session the next message of `source` belongs to. When routing auto-reset the key (a policy
   * expired), the session left is committed and the memory layer told, as for every switch.
   */
  async #route(source: SessionSource): Promise<SessionRoute> {
    const route = await this.#props.router.getOrCreateSession(source);
    if (route.autoReset) this.#props.observer?.reset?.(route.autoReset.reason);
    if (route.previousSessionId) await this.#switched(route, source, { reset: true, reason: "reset" });
    return route;
  }

  /** The key moved to `route.sessionId`: commit the session it left (if any), then tell memory how. */
  async #switched(route: SessionRoute, source: SessionSource, how: SwitchReason): Promise<void> {
    if (route.previousSessionId) await this.leaveSession(route.previousSessionId);
    await this.#props.runner.onSessionSwitch?.(route.sessionId, {
      source,
      parentSessionId: route.previousSessionId ?? null,
      ...how,
    });
  }

  /** Runs a turn that `/stop` can interrupt while it runs (its key's abort controller is registered). */
  async #runStoppable(input: Omit<TurnInput, "signal">): Promise<TurnOutput> {
    const controller = new AbortController();
    this.#running.set(input.sessionKey, controller);
    try {
      return await this.#props.runner.runTurn({ ...input, signal: controller.signal });
    } finally {
      this.#running.delete(input.sessionKey);
    }
  }

  /**
   * Saves a completed turn's reply, then records the turn with the coordinator (only a saved turn may
   * be committed). Runs while the runner still holds the agent that ran it.
   */
  async #saveCompleted(
    sessionId: string,
    completed: CompletedTurn,
    transcript?: readonly TranscriptMessage[],
  ): Promise<void> {
    const { transcripts, coordinator } = this.#props;
    const reply = { role: "assistant" as const, content: completed.reply };
    const saved = await transcripts.appendMessage(sessionId, reply);
    // The next turn of this session reads its history from here while nobody else wrote to it.
    if (transcript && saved.session) {
      this.#recent.set(sessionId, saved.session, [
        ...transcript,
        heldMessage(sessionId, saved.messageId, reply),
      ]);
    }
    await coordinator.markTurnCompleted(sessionId, { agent: completed.agent });
  }

  /** `/stop`: interrupts the key's running turn now (not after it); the session stays as it is. */
  async #stop(sessionKey: string): Promise<TurnReply> {
    const entry = await this.#props.routingIndex.get(sessionKey);
    const running = this.#running.get(sessionKey);
    running?.abort(new EngramError("CONFLICT", "Stopped by /stop"));
    return {
      sessionId: entry?.sessionId ?? "",
      sessionKey,
      reply: running ? "Stopped the running turn." : "Nothing is running.",
    };
  }

  /**
   * Commits a session's memory through the coordinator before its agent is dropped. A failed commit
   * keeps the work (the coordinator keeps the agent for a retry); the turn goes on either way.
   */
  async leaveSession(sessionId: string): Promise<boolean> {
    for (const earlier of [...this.#failedLeaves]) {
      if (earlier !== sessionId) await this.#commitLeft(earlier);
    }
    return this.#commitLeft(sessionId);
  }

  async #commitLeft(sessionId: string): Promise<boolean> {
    const { coordinator, runner, observer } = this.#props;
    let outcome: CommitOutcome | "error";
    let error: unknown;
    try {
      // Left for good: every segment goes, a crashed process's included (the coordinator adopts it).
      outcome = await coordinator.tryCommitSession(sessionId, {
        timeoutMs: this.#props.boundaryCommitTimeoutMs ?? 30_000,
        untilClean: true,
      });
    } catch (caught) {
      outcome = "error";
      error = caught;
    }
    const dirty = outcome === "committed" || outcome === "clean" ? false : await this.#stillDirty(sessionId);
    observer?.commit?.(dirty ? "failed" : "ok");
    if (dirty) {
      this.#failedLeaves.add(sessionId);
      this.#log.warn(
        { sessionId, outcome, ...(error === undefined ? {} : { err: error }) },
        "memory of a session left for good is still uncommitted; the next boundary, the sweep or the drain retries it",
      );
    } else {
      this.#failedLeaves.delete(sessionId);
      coordinator.unregisterAgent(sessionId);
      runner.evict(sessionId);
    }
    return !dirty;
  }

  /** Whether the session still has uncommitted memory; a ledger failure counts as yes (retry later). */
  async #stillDirty(sessionId: string): Promise<boolean> {
    try {
      return await this.#props.coordinator.hasUncommittedWork(sessionId);
    } catch {
      return true;
    }
  }

  /**
   * The agent that commits a session's orphaned memory (the coordinator's `adoptAgent`): the runner's
   * committer over the stored transcript, for a session a gateway routed. `undefined` for anything
   * else (a web chat in a shared database, an unknown id, a runner without memory).
   */
  async adoptAgent(sessionId: string): Promise<CommittableAgent | undefined> {
    const { transcripts, runner } = this.#props;
    if (!runner.committerFor) return undefined;
    const row = await transcripts.getSession(sessionId);
    if (!row) return undefined;
    let source: SessionSource | undefined;
    try {
      source = this.#adoptable(row);
      if (!source) return undefined;
    } catch (error) {
      this.#log.warn(
        { sessionId, err: error },
        "a stored session's source is unusable: its memory cannot be committed",
      );
      return undefined;
    }
    return runner.committerFor({ sessionId, source }, () => transcripts.getMessages(sessionId));
  }

  /**
   * Sessions with uncommitted memory this process could commit but serves with no agent: what a
   * crashed process left (once it is known dead), and what an agent let go of before committing.
   */
  async unattendedSessions(): Promise<string[]> {
    const { coordinator, transcripts } = this.#props;
    const out: string[] = [];
    for (const sessionId of await coordinator.unattendedSessions()) {
      // Another host's sessions in a shared database are that host's to commit.
      const row = await transcripts.getSession(sessionId);
      if (row && this.serves(row)) out.push(sessionId);
    }
    return out;
  }

  /**
   * Commits an unattended session's memory segment by segment while no agent here serves it. Once one
   * does (its user came back meanwhile), the rest waits for that agent's boundary. Resolves whether
   * the session is clean.
   */
  async commitUnattended(sessionId: string): Promise<boolean> {
    const { coordinator, observer } = this.#props;
    for (let segment = 0; segment < MAX_UNATTENDED_SEGMENTS; segment++) {
      if (coordinator.hasCurrentAgent(sessionId)) return false;
      let outcome: CommitOutcome;
      try {
        outcome = await coordinator.tryCommitSession(sessionId);
      } catch (error) {
        observer?.commit?.("failed");
        this.#log.warn({ sessionId, err: error }, "sweep: the commit ledger failed; the next sweep retries");
        return false;
      }
      if (outcome === "clean") return true;
      if (outcome === "committed") {
        observer?.commit?.("ok");
        continue;
      }
      // In flight or owned elsewhere: another commit takes it. A failure was logged by the coordinator.
      if (outcome === "failed" || outcome === "no_owner" || outcome === "missing_handle") {
        observer?.commit?.("failed");
      }
      return false;
    }
    return !(await this.#stillDirty(sessionId));
  }

  #adoptable(row: TranscriptSession): SessionSource | undefined {
    return this.#props.adoptable ? this.#props.adoptable(row) : routedSource(row);
  }

  /** Whether this host commits the memory of a stored session (see `adoptable`). */
  serves(row: TranscriptSession): boolean {
    try {
      return this.#adoptable(row) !== undefined;
    } catch {
      // Unusable source: `adoptAgent` reports it when a commit asks.
      return true;
    }
  }

  #validateText(text: unknown): string {
    if (typeof text !== "string" || text.trim() === "") {
      throw new InvalidArgumentError("text", "must be a non-empty string");
    }
    const bytes = Buffer.byteLength(text);
    if (bytes > this.#maxTextBytes) throw new ContentTooLargeError("text", bytes, this.#maxTextBytes);
    return text;
  }
}

/**
 * Where a routed session's messages came from, as the router recorded it (the memory scope's input);
 * `undefined` for a session no router created (it has no key: another host's, e.g. a web chat).
 */
function routedSource(row: TranscriptSession): SessionSource | undefined {
  // Only a routed session has a key; the rest belong to another host, with other memory.
  if (row.sessionKey === null) return undefined;
  return parseSessionSource({
    platform: row.source,
    chatId: row.chatId ?? "",
    chatType: row.chatType,
    userId: row.userId,
    threadId: row.threadId,
  });
}

const TIMED_OUT: unique symbol = Symbol("timed out");

/** Session keys are path-safe (no control characters): the first NUL ends the key, whatever the id holds. */
function deliveryKey(sessionKey: string, messageId: string): string {
  return `${sessionKey}\u0000${messageId}`;
}

/** The answer to a retry of an earlier delivery: that delivery's session and reply. */
function duplicateOf(earlier: PlatformMessageRecord): TurnReply {
  return {
    sessionId: earlier.sessionId,
    sessionKey: earlier.sessionKey,
    reply: earlier.reply?.text ?? null,
    duplicate: true,
  };
}

/** Told to the model on a resumed session's first turn after a restart. */
const RESUMED_NOTE =
  "[System note: the gateway restarted while this conversation was in progress. The transcript above is intact; continue from where it left off.]";

function validateMessageId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== "string" || value === "" || value.length > MAX_MESSAGE_ID_LENGTH) {
    throw new InvalidArgumentError("messageId", `must be a string of 1-${MAX_MESSAGE_ID_LENGTH} characters`);
  }
  return value;
}

function validateTimestamp(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError("timestamp", "must be a non-negative epoch time in ms");
  }
  return value;
}

/** A message just appended, as `getMessages` would read it back (for the held transcript). */
function heldMessage(
  sessionId: string,
  id: number,
  message: {
    readonly role: TranscriptRole;
    readonly content: string;
    readonly platformMessageId?: string | null;
    readonly createdAt?: number;
  },
): TranscriptMessage {
  return {
    id,
    sessionId,
    role: message.role,
    content: message.content,
    parts: null,
    toolName: null,
    toolCalls: null,
    toolResults: null,
    toolCallId: null,
    reasoning: null,
    reasoningDetails: null,
    platformMessageId: message.platformMessageId ?? null,
    observed: false,
    active: true,
    compacted: false,
    createdAt: message.createdAt ?? Date.now(),
  };
}
