import type { SessionSource } from "@engram/core";
import type { InboundMessage, TurnReply } from "@engram/sessions";
import type { FastifyInstance } from "fastify";

/** Where an adapter hands inbound messages: the gateway's turn pipeline (routing, agent, transcript). */
export type InboundHandler = (message: InboundMessage) => Promise<TurnReply>;

/**
 * A messaging platform (Telegram, Discord, ...): turns the platform's inbound events into
 * {@link InboundMessage}s and sends text back to a chat.
 *
 * Guarantees an implementer must keep:
 * - `register` only adds routes; it is called once, before the server listens.
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
