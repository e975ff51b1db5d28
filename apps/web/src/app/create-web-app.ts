import { fileURLToPath } from "node:url";
import type { ChatModel } from "@engram/agent";
import {
  type Clock,
  type Logger,
  ROUTING_INDEX,
  type RoutingIndex,
  TRANSCRIPT_STORE,
  WEB_SESSION_STORE,
  type WebSessionStore,
} from "@engram/core";
import { createDefaultHost, type EngramHost, SessionRuntime } from "@engram/sessions";
import { CachedWebSessionStore, type DB } from "@engram/store";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { Kysely } from "kysely";
import { ChatService, WEB_OWNER_SOURCE } from "../chat/chat-service.js";
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
  /** The session runtime web sessions run on (turns, boundaries, the idle sweep, restart). */
  readonly runtime: SessionRuntime;
  readonly chat: ChatService;
  readonly messaging: MessagingFeed;
  /**
   * Graceful stop: no new requests, running turns end (cancelled at the deadline), then every
   * session's uncommitted memory is committed before the deadline.
   */
  close(props?: { readonly drainDeadlineMs?: number }): Promise<void>;
  /**
   * Resolves once the runtime restored after the previous run (a killed run's memory is adoptable)
   * and the change feed listens (when notifications were given). Await it before listening.
   */
  readonly ready: Promise<void>;
}

/**
 * The composition root: the host's container (ports on the database, clock, model, memory plugins),
 * the session runtime whose agents share the web owner's memory scope, chat and HTTP.
 */
export function createWebApp(props: CreateWebAppProps): WebApp {
  const host =
    props.host ?? createDefaultHost({ db: props.db, ...(props.clock ? { clock: props.clock } : {}) });
  const clock = props.clock ?? host.clock;
  const sessions = new CachedWebSessionStore(host.container.resolve<WebSessionStore>(WEB_SESSION_STORE));
  // One child container per session; every web session shares the owner's memory scope.
  const openMemory = (sessionId: string) =>
    host.openSession({
      sessionId,
      platform: "web",
      memoryScope: WEB_MEMORY_SCOPE,
      agentContext: "primary",
      extra: {},
    });
  const runtime = new SessionRuntime({
    host,
    db: props.db,
    clock,
    // `web:` keeps its restart marker apart from any gateway instance's (their names have no colon).
    instance: `web:${props.config.instance}`,
    ledgerPrefix: `web:${props.config.instance}:`,
    agents: {
      providers: ({ sessionId }) => openMemory(sessionId),
      maxAgents: props.config.maxAgents,
      platform: "web",
      ...(props.model ? { model: props.model } : {}),
    },
    // Web sessions are the ones no router created (no session key); a dead process's work on them is
    // committed here, in the owner's scope. The gateway's sessions in a shared database are its own.
    adoptable: (row) => (row.sessionKey === null ? WEB_OWNER_SOURCE : undefined),
    idleCommitMs: props.config.idleCommitMs,
    logger: lazyLogger(() => server.log),
  });
  const restored = runtime.restore();
  // Reported by whoever awaits it (`ready`, each boundary); never an unhandled rejection.
  restored.catch(() => undefined);
  let providerNames: string[] | undefined;
  const streams = new ChatStreams();
  const chat = new ChatService({
    sessions,
    runtime,
    restored,
    streams,
    maxMessageBytes: props.config.maxMessageBytes,
    providerNames: () => {
      if (!providerNames) {
        // Built, never initialised (no I/O), then released.
        const probe = openMemory("probe");
        providerNames = probe.providers.map((provider) => provider.name);
        void Promise.resolve(probe.dispose()).catch(() => undefined);
      }
      return providerNames;
    },
  });
  const messaging = new MessagingFeed(
    host.container.resolve(TRANSCRIPT_STORE),
    host.container.resolve<RoutingIndex>(ROUTING_INDEX),
  );
  const server = buildWebServer({
    sessions,
    transcripts: runtime.transcripts,
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
  });
  // Sessions idle past the window are committed without a request: sweep a few times per window.
  void restored.then(
    () => runtime.startSweeping(Math.min(60_000, Math.max(250, props.config.idleCommitMs / 4))),
    () => undefined,
  );
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
      await restored.catch(() => undefined);
      const cancel = setTimeout(() => streams.cancelAll(), deadlineMs / 2);
      await runtime.close({
        drainDeadlineMs: deadlineMs,
        stopIntake: async () => {
          await server.close();
          await chat.idle();
        },
      });
      clearTimeout(cancel);
      // A host given by the caller is the caller's to close (it may serve other apps too).
      if (!props.host) await host.close();
    })();
    return closing;
  };
  return {
    server,
    host,
    runtime,
    chat,
    messaging,
    close,
    ready: Promise.all([listening, restored]).then(() => undefined),
  };
}

/** A {@link Logger} writing to a pino logger that exists only once `get` can answer. */
function lazyLogger(get: () => Logger): Logger {
  return {
    debug: (fields, message) => get().debug(fields, message),
    info: (fields, message) => get().info(fields, message),
    warn: (fields, message) => get().warn(fields, message),
    error: (fields, message) => get().error(fields, message),
  };
}
