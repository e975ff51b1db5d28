import type { SessionSource } from "@engram/core";

/**
 * What the kit hands the adapter as the host's runtime: the shape of `InboundHandler` of
 * `@engram/sessions` (declared here structurally, so the testkit does not depend on the runtime).
 */
export type ConformanceInboundHandler = (message: ConformanceInboundMessage) => Promise<ConformanceTurnReply>;

export interface ConformanceInboundMessage {
  readonly source: unknown;
  readonly text: unknown;
  readonly messageId?: unknown;
  readonly timestamp?: unknown;
  readonly onStored?: () => void;
}

export interface ConformanceTurnReply {
  readonly sessionId: string;
  readonly sessionKey: string;
  readonly reply: string | null;
  readonly duplicate?: true;
}

/** A platform event in neutral terms; the initializer turns it into the platform's own payload. */
export interface ConformanceEvent {
  /** Unique per event and the same on a redelivery (Telegram's update, Slack's event id). */
  readonly eventId: number;
  readonly chatType: SessionSource["chatType"];
  /** The platform's chat id, as the adapter puts it in `SessionSource.chatId`. */
  readonly chatId: string;
  /** The sender; absent for a channel post. */
  readonly userId?: string;
  /** The thread (forum topic, Slack thread) of a `thread` event. */
  readonly threadId?: string;
  readonly text: string;
}

export interface ConformanceChat {
  readonly chatId: string;
  readonly userId?: string;
  readonly threadId?: string;
}

/** What the platform (the initializer's stand-in) got from the adapter. */
export interface ConformanceSentMessage {
  readonly chatId: string;
  readonly threadId?: string;
  readonly text: string;
}

/** How the platform saw its delivery answered. */
export interface ConformanceDelivery {
  /** Whether the platform got its acknowledgement (2xx; for polling: the event was confirmed). */
  readonly acknowledged: boolean;
  /** The HTTP status, for webhook transports. */
  readonly status?: number;
}

/** One adapter, mounted and started against the initializer's stand-in, with `inbound` as its runtime. */
export interface RunningConformanceAdapter {
  readonly platform: string;
  /** Delivers `event` the way the platform does and resolves once the platform got its answer. */
  deliver(event: ConformanceEvent): Promise<ConformanceDelivery>;
  /** Delivers `event` with a wrong signature or secret; absent when the transport has none. */
  deliverForged?(event: ConformanceEvent): Promise<ConformanceDelivery>;
  /** Sends through the adapter's `send` (replies no event waits for). */
  send(source: SessionSource, text: string): Promise<void>;
  /** Everything the stand-in received, in order. */
  sent(): readonly ConformanceSentMessage[];
  /** Resolves once the adapter finished every accepted event (turn and reply). */
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What an adapter author writes to run the kit: how to start the adapter on a stand-in of the
 * platform. Each `start` must give a fresh adapter and an empty record of sent messages, so checks
 * stay independent.
 */
export interface AdapterTestInitializer {
  readonly name: string;
  /** The platform's cap on one message (Telegram 4096), which replies are split to. */
  readonly maxMessageLength: number;
  /** Chat types the platform has (default all four). */
  readonly chatTypes?: readonly SessionSource["chatType"][];
  /**
   * The chats the checks talk in, per chat type, in the platform's own id format (defaults are
   * Telegram-like numbers: `7101`, `-7201`, `-1007301` with thread `42`, `-1007401`).
   */
  readonly chats?: Partial<Record<SessionSource["chatType"], ConformanceChat>>;
  /**
   * Why the platform never delivers an event again (a gateway connection has no acknowledgement):
   * set, the check that an unsaved event is left unacknowledged for redelivery is skipped with it.
   */
  readonly noRedelivery?: string;
  start(inbound: ConformanceInboundHandler): Promise<RunningConformanceAdapter>;
  beforeAll?(): Promise<void>;
  afterAll?(): Promise<void>;
}
