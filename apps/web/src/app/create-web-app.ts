import { fileURLToPath } from "node:url";
import type { ChatModel } from "@engram/agent";
import {
  type Clock,
  COMMIT_LEDGER,
  type CommitLedger,
  MemoryCommitCoordinator,
  ROUTING_INDEX,
  type RoutingIndex,
  TRANSCRIPT_STORE,
  type TranscriptStore,
  WEB_SESSION_STORE,
  type WebSessionStore,
} from "@engram/core";
import { createDefaultHost, type EngramHost } from "@engram/sessions";
import { CachedWebSessionStore, type DB } from "@engram/store";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { Kysely } from "kysely";
import { WebAgentPool } from "../agents/web-agent-pool.js";
import { ChatService } from "../chat/chat-service.js";
import { ChatStreams } from "../chat/chat-streams.js";
import type { WebConfig } from "../config/web-config.js";
import { buildWebServer } from "../server/build-web-server.js";
import { MessagingFeed, type TranscriptChangeSource } from "../server/messaging-feed.js";
import { WebAuth } from "../server/web-auth.js";

/**
 * The memory scope of every web session. The web app has one owner (one login token, no user
 * accounts), so all its sessions share one memory; it is its own scope so the web owner's facts and
 * the messaging gateway's per-person scopes never mix when both run over one database. Facts written
 * before scopes existed stay in `default`, recalled by neither.
 */
export const WEB_MEMORY_SCOPE = "web";

/** The built UI next to the server code (`dist/ui`). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL("../ui", import.meta.url));

export interface CreateWebAppProps {
  readonly config: WebConfig;
  /** A migrated `@engram/store` database the app uses but does not own (the caller closes it). */
  readonly db: Kysely<DB>;
  /**
   * The composed host over `db` (`composeHost`: the configured memory plugins, the model, the store's
   * ports); the caller closes it after the app. Default: `createDefaultHost` on `db` (Holographic
   * memory), owned and closed by the app.
   */
  readonly host?: EngramHost;
  /** Default: the host's `CLOCK`. */
  readonly clock?: Clock;
  /** Default: the host's `CHAT_MODEL` (the offline model unless `ENGRAM_MODEL*` is set). */
  readonly model?: ChatModel;
  readonly logger?: FastifyServerOptions["logger"];
  /**
   * Pushes changes of the gateway's sessions as they are written (`listenForTranscriptChanges` on the
   * database). Without it, changes are found by checking the list every `messagingPollMs`.
   */
  readonly transcriptChanges?: TranscriptChangeSource;
  /** How often the gateway's sessions are checked for changes (default 1000 ms, 10 s with notifications). */
  readonly messagingPollMs?: number;
}

export interface WebApp {
  readonly server: FastifyInstance;
  /** The host the app was composed on (its own default one when none was given). */
  readonly host: EngramHost;
  readonly agents: WebAgentPool;
  readonly chat: ChatService;
  readonly coordinator: MemoryCommitCoordinator;
  readonly messaging: MessagingFeed;
  /**
   * Graceful stop: no new requests, running turns end (cancelled at the deadline), then every
   * session's uncommitted memory is committed before the deadline.
   */
  close(props?: { readonly drainDeadlineMs?: number }): Promise<void>;
  /** Resolves once the change feed listens (when notifications were given). */
  readonly ready: Promise<void>;
}

/**
 * The composition root: the host's container (ports on the database, clock, model, memory plugins),
 * then agents whose providers share the web owner's memory scope, chat and HTTP.
 */
export function createWebApp(props: CreateWebAppProps): WebApp {
  const host =
    props.host ?? createDefaultHost({ db: props.db, ...(props.clock ? { clock: props.clock } : {}) });
  const clock = props.clock ?? host.clock;
  const transcripts = host.container.resolve<TranscriptStore>(TRANSCRIPT_STORE);
  const sessions = new CachedWebSessionStore(host.container.resolve<WebSessionStore>(WEB_SESSION_STORE));
  const coordinator = new MemoryCommitCoordinator({
    clock,
    ledger: host.container.resolve<CommitLedger>(COMMIT_LEDGER),
  });
  const agents = new WebAgentPool({
    coordinator,
    model: props.model ?? host.model,
    maxAgents: props.config.maxAgents,
    // One child container per session; every web session shares the owner's memory scope.
    providers: (sessionId) =>
      host.openSession({
        sessionId,
        platform: "web",
        memoryScope: WEB_MEMORY_SCOPE,
        agentContext: "primary",
        extra: {},
      }),
  });
  const streams = new ChatStreams();
  const chat = new ChatService({ sessions, agents, streams, maxMessageBytes: props.config.maxMessageBytes });
  const messaging = new MessagingFeed(transcripts, host.container.resolve<RoutingIndex>(ROUTING_INDEX));
  const commits = new Set<Promise<unknown>>();
  const server = buildWebServer({
    sessions,
    transcripts,
    agents,
    chat,
    streams,
    messaging,
    auth: new WebAuth({ token: props.config.token }),
    uiDir: props.config.uiDir ?? DEFAULT_UI_DIR,
    modelId: (props.model ?? host.model).id,
    // The memory view sees exactly what web sessions see: the owner's scope, nothing else.
    openMemory: () =>
      host.openSession({
        sessionId: "web-memory-view",
        platform: "web",
        memoryScope: WEB_MEMORY_SCOPE,
        agentContext: "primary",
        extra: {},
      }),
    logger: props.logger ?? false,
    checkHealth: async () => {
      await sessions.list({ limit: 1 });
    },
    commitInBackground: (sessionId) => {
      const commit = agents.commit(sessionId).catch((error: unknown) => {
        server.log.warn({ err: error, sessionId }, "boundary commit failed; it is retried at shutdown");
      });
      commits.add(commit);
      void commit.finally(() => commits.delete(commit));
    },
  });
  messaging.start(props.messagingPollMs ?? (props.transcriptChanges ? 10_000 : 1_000));
  const listening = props.transcriptChanges
    ? messaging.attach(props.transcriptChanges).catch((error: unknown) => {
        server.log.warn({ err: error }, "transcript notifications unavailable; polling instead");
      })
    : Promise.resolve();
  let closing: Promise<void> | undefined;
  const close = (closeProps: { readonly drainDeadlineMs?: number } = {}) => {
    closing ??= (async () => {
      const deadlineMs = closeProps.drainDeadlineMs ?? 30_000;
      await listening;
      await messaging.stop();
      const cancel = setTimeout(() => streams.cancelAll(), deadlineMs / 2);
      await server.close();
      await chat.idle();
      clearTimeout(cancel);
      await Promise.allSettled([...commits]);
      await coordinator.drainAll({ deadlineMs });
      await coordinator.close();
      await agents.close();
      // A host given by the caller is the caller's to close (it may serve other apps too).
      if (!props.host) await host.close();
    })();
    return closing;
  };
  return { server, host, agents, chat, coordinator, messaging, close, ready: listening };
}
