import type { Clock, Logger, SessionSource } from "@engram/core";
import type { FastifyInstance } from "fastify";
import type { InboundMessage } from "../turns/session-turn-handler.js";
import type { TurnReply } from "../turns/turn-reply.js";

/** Where an adapter hands inbound messages: the host's session runtime (routing, agent, transcript). */
export type InboundHandler = (message: InboundMessage) => Promise<TurnReply>;

/**
 * A messaging platform (Telegram, Slack, ...): turns the platform's inbound events into
 * {@link InboundMessage}s and sends text back to a chat. Third parties implement it in a plugin
 * package that registers a {@link PlatformAdapterFactory} (see {@link PLATFORM_ADAPTER_FACTORIES});
 * the host mounts its routes and hands its messages to the session runtime.
 *
 * Guarantees an implementer must keep:
 * - `register` only adds routes (or none: an adapter that polls its platform); it is called once,
 *   before the server listens. No I/O before `start`.
 * - Every inbound event that carries text reaches `inbound` at most once per platform message id
 *   (the gateway also drops repeats of a `messageId`, so a platform retry is harmless).
 * - An inbound event is acknowledged to its platform only after `inbound` called the message's
 *   `onStored` (or resolved); when `inbound` fails before that, the platform is told so it redelivers.
 * - `send` delivers to the chat (and thread) of `source` and throws on failure; the gateway decides
 *   what a failed delivery means (the turn's reply is in the transcript either way).
 */
export interface PlatformAdapter {
  /** The `SessionSource.platform` of every message this adapter produces (`telegram`). */
  readonly platform: string;
  /** Adds the adapter's inbound routes (webhooks) to the gateway's server. */
  register(server: FastifyInstance, inbound: InboundHandler): void;
  /**
   * Sends `text` to the chat of `source`: replies of turns no inbound request is waiting for
   * (auto-continue after a restart, notices).
   */
  send(source: SessionSource, text: string): Promise<void>;
  /** Called once the server listens; the platform counts as up when it resolves. */
  start?(): Promise<void>;
  /** Called when the gateway stops, after inbound routes stopped taking requests. */
  stop?(): Promise<void>;
}

/**
 * What an adapter factory is given: the host's services, never a container. `db` is the host's
 * migrated database (`Kysely<unknown>`; an adapter that keeps state puts its own tables there,
 * behind its own migration table, migrated in `start`), absent in hosts without one.
 */
export interface PlatformAdapterContext {
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly db?: unknown;
}

/**
 * Builds a plugin's adapter from its validated configuration. Called once per host at composition;
 * must not do I/O (connect in `start`).
 */
export type PlatformAdapterFactory = (context: PlatformAdapterContext) => PlatformAdapter;

/**
 * Multi-registration of {@link PlatformAdapterFactory}: an adapter plugin registers one per platform
 * in `register` (`container.register<PlatformAdapterFactory>(PLATFORM_ADAPTER_FACTORIES, { useValue })`).
 * `Symbol.for`, so two copies of this package loaded by mistake still agree on it.
 */
export const PLATFORM_ADAPTER_FACTORIES: unique symbol = Symbol.for(
  "engram.sessions.PlatformAdapterFactories",
);
