import {
  COMPRESSION_END_REASON,
  EngramError,
  InvalidArgumentError,
  type RoutingIndex,
  type SessionSource,
  type TranscriptSessionListItem,
  type TranscriptStore,
} from "@engram/core";
import type { SessionRoute, SessionRouter } from "../routing/session-router.js";
import type { SessionRuntimeObserver } from "../runtime/runtime-observer.js";
import type { TurnReply } from "../turns/turn-reply.js";
import type { TurnRunner } from "../turns/turn-runner.js";
import type { GatewayCommand } from "./gateway-command.js";

/** Why the key moved: the `reset` flag and reason `onSessionSwitch` reports. */
export interface SwitchReason {
  readonly reset: boolean;
  readonly reason: string;
}

/** Sessions `/sessions` lists and `/resume N` counts through. */
const LISTED_SESSIONS = 20;
const MAX_TITLE_LENGTH = 120;
const MAX_UNDO = 50;
/** Model names a `/model` override may carry: a provider's id such as `gpt-4.1-mini` or `org/model:tag`. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;

export interface SessionCommandsProps {
  readonly router: SessionRouter;
  readonly routingIndex: RoutingIndex;
  readonly transcripts: TranscriptStore;
  readonly runner: TurnRunner;
  readonly observer?: SessionRuntimeObserver;
  /** Commits a session left for good (the turn handler's `leaveSession`). */
  readonly leaveSession: (sessionId: string) => Promise<boolean>;
  /**
   * The key moved to `route.sessionId`: commits `route.previousSessionId` (if any) and tells the memory
   * layer (`onSessionSwitch`) how (the turn handler's, shared with messages).
   */
  readonly switched: (route: SessionRoute, source: SessionSource, how: SwitchReason) => Promise<void>;
  /** The key's current session, routed exactly as a message would be (the turn handler's). */
  readonly route: (source: SessionSource) => Promise<SessionRoute>;
  /** Whether this gateway can run another model than its default (a model endpoint is configured). */
  readonly modelSwitchable?: boolean;
}

/**
 * The session commands of seed 004, each run in the key's turn slot (so no turn of the same key runs
 * meanwhile). Every command that moves the key to another session commits the one it leaves through
 * `switched` first and tells the memory layer why (`onSessionSwitch` with reason, `reset`,
 * `rewound`). Listing and `/resume` see only the caller's own sessions: those of the same session key,
 * which carries platform, chat, thread and (unless the chat is shared) user.
 */
export class SessionCommands {
  readonly #props: SessionCommandsProps;

  constructor(props: SessionCommandsProps) {
    this.#props = props;
  }

  run(command: GatewayCommand, source: SessionSource): Promise<TurnReply> {
    switch (command.name) {
      case "new":
      case "reset":
        return this.#reset(source, command.name, command.args);
      case "resume":
        return this.#resume(source, command.args);
      case "branch":
        return this.#branch(source, command.args);
      case "undo":
        return this.#undo(source, command.args);
      case "compress":
        return this.#compress(source);
      case "sessions":
        return this.#sessions(source);
      case "model":
        return this.#model(source, command.args);
      case "help":
        return this.#help(source, HELP_TEXT);
      case "unknown":
        return this.#help(source, `${command.word} is not a command here.\n\n${HELP_TEXT}`);
      case "stop":
        // `/stop` never waits for the turn slot; the handler answers it before queueing.
        throw new EngramError("INTERNAL", "/stop must be handled before the turn queue");
    }
  }

  /** `/new [title]`, `/reset`: commit the session being left, then route the key to a fresh one. */
  async #reset(source: SessionSource, command: "new" | "reset", args: string): Promise<TurnReply> {
    const { router, transcripts, observer } = this.#props;
    const title = args === "" ? undefined : validateTitle(args);
    const route = await router.resetSession(source);
    observer?.reset?.("explicit");
    await this.#props.switched(route, source, {
      reset: true,
      reason: command === "reset" ? "reset" : "new_session",
    });
    let named = "";
    if (title !== undefined) {
      const free = await transcripts.nextAvailableTitle(title);
      await transcripts.updateSession(route.sessionId, { title: free });
      named = ` "${free}"`;
    }
    return reply(route, `Started a new session${named}.`);
  }

  /**
   * `/resume` lists the chat's sessions; `/resume <id | title | N>` returns to one of them (N counts
   * through the list `/sessions` shows). The session left is committed and ended with `session_switch`.
   */
  async #resume(source: SessionSource, args: string): Promise<TurnReply> {
    if (args === "") return this.#sessions(source);
    const { router } = this.#props;
    const target = await this.#findOwnSession(source, args);
    const route = await router.switchSession(source, target);
    await this.#props.switched(route, source, { reset: false, reason: "resume" });
    return reply(route, `Resumed session ${route.sessionId}.`);
  }

  /** `/branch [title]`: continue in a copy of this session; the original stays resumable. */
  async #branch(source: SessionSource, args: string): Promise<TurnReply> {
    const { router } = this.#props;
    const title = args === "" ? undefined : validateTitle(args);
    const route = await router.branchSession(source, title === undefined ? {} : { title });
    await this.#props.switched(route, source, { reset: false, reason: "branch" });
    return reply(route, `Branched into session ${route.sessionId}.`);
  }

  /** `/undo [N]`: soft-deletes the last N exchanges (the rows stay for audit); memory hears `rewound`. */
  async #undo(source: SessionSource, args: string): Promise<TurnReply> {
    const { transcripts, runner } = this.#props;
    const count = args === "" ? 1 : Number(args);
    if (!Number.isInteger(count) || count < 1 || count > MAX_UNDO) {
      throw new InvalidArgumentError("/undo", `takes a whole number of turns from 1 to ${MAX_UNDO}`);
    }
    const route = await this.#props.route(source);
    const recent = await transcripts.listRecentUserMessages(route.sessionId, count);
    const oldest = recent.at(-1);
    if (!oldest) return reply(route, "Nothing to undo.");
    const result = await transcripts.rewindToUserMessage(route.sessionId, oldest.id);
    await runner.onSessionSwitch?.(route.sessionId, {
      source,
      parentSessionId: route.sessionId,
      reset: false,
      rewound: true,
      reason: "undo",
    });
    const turns = recent.length === 1 ? "the last turn" : `the last ${recent.length} turns`;
    return reply(route, `Undid ${turns} (${result.rewoundCount} messages).`);
  }

  /**
   * `/compress`: summarises the session into a child session (compression lineage), after committing
   * its memory; the key follows the child.
   */
  async #compress(source: SessionSource): Promise<TurnReply> {
    const { transcripts, runner, routingIndex, router } = this.#props;
    const route = await this.#props.route(source);
    if (!runner.compress) return reply(route, "This gateway's agent cannot compress sessions.");
    const history = await transcripts.getMessages(route.sessionId);
    // Commit first: compression's own commit would otherwise bypass the coordinator's ledger.
    await this.#props.leaveSession(route.sessionId);
    const newSessionId = router.newSessionIdNow();
    const rotated = await runner.compress({
      sessionId: route.sessionId,
      source,
      history,
      newSessionId,
      persist: async (rotation) => {
        await transcripts.startCompressionContinuation(rotation.parentSessionId, { id: rotation.sessionId });
        await transcripts.replaceMessages(
          rotation.sessionId,
          rotation.messages.map((m) => ({ role: m.role, content: m.content })),
        );
        const switched = await routingIndex.switchSession(
          route.sessionKey,
          rotation.parentSessionId,
          rotation.sessionId,
        );
        // Healing would get there too, but the entry's flags are the parent's: keep them in step.
        if (!switched.switched) {
          throw new EngramError("CONFLICT", `Session key ${route.sessionKey} moved during /compress`);
        }
      },
    });
    if (!rotated) return reply(route, "Nothing to compress yet.");
    const child = await transcripts.getSession(newSessionId);
    return {
      sessionId: newSessionId,
      sessionKey: route.sessionKey,
      reply: `Compressed the conversation into session ${newSessionId} (${child?.messageCount ?? 0} messages).`,
    };
  }

  /** `/sessions`: the chat's own sessions, newest first, numbered for `/resume N`. */
  async #sessions(source: SessionSource): Promise<TurnReply> {
    const { routingIndex } = this.#props;
    const sessionKey = this.#props.router.sessionKeyFor(source);
    const entry = await routingIndex.get(sessionKey);
    const listed = await this.#listOwn(sessionKey);
    const lines = listed.map((item, i) => {
      const s = item.session;
      const label = s.title ?? item.firstUserMessage ?? "(empty)";
      const current = s.id === entry?.sessionId ? " (current)" : "";
      return `${i + 1}. ${label.slice(0, 60)} — ${s.id}, ${s.messageCount} messages${current}`;
    });
    const text =
      lines.length === 0 ? "No sessions yet." : `Your sessions (newest first):\n${lines.join("\n")}`;
    return { sessionId: entry?.sessionId ?? "", sessionKey, reply: text };
  }

  /**
   * `/help` (and Telegram's `/start`), and any `/word` that is not a command: the command list. Nothing
   * is routed or written; an unknown command is answered so a typo never looks like silence.
   */
  async #help(source: SessionSource, text: string): Promise<TurnReply> {
    const sessionKey = this.#props.router.sessionKeyFor(source);
    const entry = await this.#props.routingIndex.get(sessionKey);
    return { sessionId: entry?.sessionId ?? "", sessionKey, reply: text };
  }

  /** `/model` shows the session's model; `/model <name>` overrides it for this session (never credentials). */
  async #model(source: SessionSource, args: string): Promise<TurnReply> {
    const { routingIndex } = this.#props;
    const route = await this.#props.route(source);
    const entry = await routingIndex.get(route.sessionKey);
    if (args === "") {
      const model = entry?.modelOverride?.model;
      return reply(route, model ? `This session uses ${model}.` : "This session uses the default model.");
    }
    if (!MODEL_NAME.test(args)) {
      throw new InvalidArgumentError("/model", "takes a model name of letters, digits and . _ : / @ -");
    }
    if (!this.#props.modelSwitchable) {
      return reply(
        route,
        "This gateway runs the offline model; /model needs a model endpoint (ENGRAM_MODEL).",
      );
    }
    const patched = await routingIndex.patch(
      route.sessionKey,
      { modelOverride: { model: args }, touch: false },
      { expectedSessionId: route.sessionId },
    );
    if (!patched) throw new EngramError("CONFLICT", `Session key ${route.sessionKey} moved during /model`);
    return reply(route, `This session now uses ${args}.`);
  }

  async #listOwn(sessionKey: string): Promise<TranscriptSessionListItem[]> {
    const items = await this.#props.transcripts.listSessions({
      scope: { sessionKey },
      limit: LISTED_SESSIONS,
    });
    // A compressed parent lives on in its child: list the conversation once.
    return items.filter((item) => item.session.endReason !== COMPRESSION_END_REASON);
  }

  /** Resolves `/resume`'s argument among the caller's own sessions, else `NOT_FOUND`. */
  async #findOwnSession(source: SessionSource, args: string): Promise<string> {
    const sessionKey = this.#props.router.sessionKeyFor(source);
    if (/^\d{1,3}$/.test(args)) {
      const listed = await this.#listOwn(sessionKey);
      const picked = listed[Number(args) - 1];
      if (picked) return picked.session.id;
    } else {
      const listed = await this.#listOwn(sessionKey);
      const wanted = args.toLowerCase();
      const byTitle = listed.find((item) => item.session.title?.toLowerCase() === wanted);
      if (byTitle) return byTitle.session.id;
      const byId = await this.#props.transcripts.getSession(args).catch(() => undefined);
      // The router re-checks ownership; an unsafe id is refused there with INVALID_ID.
      if (byId || !/^[\w.-]+$/.test(args)) return args;
    }
    throw new EngramError("NOT_FOUND", `No session ${JSON.stringify(args)} in this chat`, {
      details: { kind: "session", id: args },
    });
  }
}

/** The answer to `/help`, `/start` and unknown commands. */
export const HELP_TEXT = [
  "Commands:",
  "/new [title] - start a new session (/reset: the same, untitled)",
  "/sessions - list this chat's sessions",
  "/resume [N | id | title] - go back to one of them",
  "/branch [title] - continue in a copy of this session",
  "/undo [N] - take back the last N turns",
  "/compress - summarise this session to make room",
  "/model [name] - show or change this session's model",
  "/stop - stop the answer being written",
  "Anything else goes to the agent.",
].join("\n");

function reply(route: SessionRoute, text: string): TurnReply {
  return { sessionId: route.sessionId, sessionKey: route.sessionKey, reply: text };
}

function validateTitle(title: string): string {
  if (title.length > MAX_TITLE_LENGTH || hasControlCharacter(title)) {
    throw new InvalidArgumentError("title", `must be at most ${MAX_TITLE_LENGTH} characters on one line`);
  }
  return title;
}

function hasControlCharacter(text: string): boolean {
  for (const char of text) if ((char.codePointAt(0) ?? 0) < 0x20) return true;
  return false;
}
