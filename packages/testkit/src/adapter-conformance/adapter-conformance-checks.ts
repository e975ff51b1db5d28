import { EngramError, SessionNotFoundError, type SessionSource, StoreError } from "@engram/core";
import {
  CheckFailure,
  type CheckResult,
  CheckSkipped,
  describeThrown,
  fail,
  skipCheck,
} from "../conformance/check-result.js";
import type {
  AdapterTestInitializer,
  ConformanceEvent,
  ConformanceInboundMessage,
  ConformanceTurnReply,
  RunningConformanceAdapter,
} from "./adapter-test-initializer.js";

/** How the kit's stand-in runtime answers one inbound message. */
type Answer =
  | { readonly reply: string | null; readonly duplicate?: true }
  | { readonly throwBeforeStored: unknown }
  | { readonly throwAfterStored: unknown };

/**
 * The host side of a check: records each inbound message and answers it as the session runtime
 * would (`onStored` once the message counts as saved, then the reply), following `script`.
 */
class ScriptedRuntime {
  readonly received: ConformanceInboundMessage[] = [];
  readonly #seen = new Set<string>();
  constructor(readonly script: (message: ConformanceInboundMessage, index: number) => Answer) {}

  readonly handle = async (message: ConformanceInboundMessage): Promise<ConformanceTurnReply> => {
    const index = this.received.push(message) - 1;
    const answer = this.script(message, index);
    if ("throwBeforeStored" in answer) throw answer.throwBeforeStored;
    // A repeated platform message id is answered as a duplicate, as the runtime does.
    const id = String(message.messageId);
    const repeat = this.#seen.has(id);
    this.#seen.add(id);
    message.onStored?.();
    if ("throwAfterStored" in answer) throw answer.throwAfterStored;
    return {
      sessionId: "conformance-session",
      sessionKey: "conformance-key",
      reply: answer.reply,
      ...(answer.duplicate || repeat ? { duplicate: true as const } : {}),
    };
  };
}

export interface AdapterCheck {
  readonly id: string;
  readonly title: string;
  run(init: AdapterTestInitializer): Promise<void>;
}

let nextEventId = 1_000;
const eventOf = (props: Omit<ConformanceEvent, "eventId">): ConformanceEvent => ({
  eventId: ++nextEventId,
  ...props,
});

const DEFAULT_CHATS: Record<SessionSource["chatType"], Omit<ConformanceEvent, "eventId" | "text">> = {
  dm: { chatType: "dm", chatId: "7101", userId: "7101" },
  group: { chatType: "group", chatId: "-7201", userId: "7102" },
  thread: { chatType: "thread", chatId: "-1007301", userId: "7103", threadId: "42" },
  channel: { chatType: "channel", chatId: "-1007401" },
};

/** The initializer's chats over the defaults. */
function chatsOf(init: AdapterTestInitializer): typeof DEFAULT_CHATS {
  const chats = { ...DEFAULT_CHATS };
  for (const [chatType, chat] of Object.entries(init.chats ?? {})) {
    const type = chatType as SessionSource["chatType"];
    if (chat) chats[type] = { chatType: type, ...chat };
  }
  return chats;
}

/** Starts the adapter with `runtime`, runs `body`, and always stops it. */
async function withAdapter(
  init: AdapterTestInitializer,
  runtime: ScriptedRuntime,
  body: (adapter: RunningConformanceAdapter) => Promise<void>,
): Promise<void> {
  const adapter = await init.start(runtime.handle);
  try {
    await body(adapter);
  } finally {
    await adapter.stop();
  }
}

function expectAcknowledged(delivery: { acknowledged: boolean; status?: number }, what: string): void {
  if (!delivery.acknowledged) fail(`${what} was not acknowledged (status ${delivery.status ?? "?"})`);
}

function sourceOf(message: ConformanceInboundMessage | undefined): Record<string, unknown> {
  if (!message || typeof message.source !== "object" || message.source === null) {
    fail("the runtime got no message with a source object");
  }
  return message.source as Record<string, unknown>;
}

/** Every check of the kit, in the order they run. */
export const ADAPTER_CHECKS: readonly AdapterCheck[] = [
  {
    id: "source-mapping",
    title: "maps each chat type to its session source (platform, chat, user, thread) with a message id",
    async run(init) {
      const CHATS = chatsOf(init);
      for (const chatType of init.chatTypes ?? (["dm", "group", "thread", "channel"] as const)) {
        const runtime = new ScriptedRuntime(() => ({ reply: null }));
        await withAdapter(init, runtime, async (adapter) => {
          const chat = CHATS[chatType];
          expectAcknowledged(
            await adapter.deliver(eventOf({ ...chat, text: `hello ${chatType}` })),
            chatType,
          );
          await adapter.whenIdle();
          if (runtime.received.length !== 1)
            fail(`${chatType}: ${runtime.received.length} messages reached the runtime, not 1`);
          const [message] = runtime.received;
          const source = sourceOf(message);
          const expected: Record<string, unknown> = {
            platform: adapter.platform,
            chatType,
            chatId: chat.chatId,
            ...(chat.userId ? { userId: chat.userId } : {}),
            ...(chat.threadId ? { threadId: chat.threadId } : {}),
          };
          for (const [key, value] of Object.entries(expected)) {
            if (source[key] !== value) {
              fail(
                `${chatType}: source.${key} is ${JSON.stringify(source[key])}, expected ${JSON.stringify(value)}`,
              );
            }
          }
          if (chatType !== "thread" && source.threadId !== undefined) fail(`${chatType}: has a threadId`);
          if (message?.text !== `hello ${chatType}`)
            fail(`${chatType}: text is ${JSON.stringify(message?.text)}`);
          if (typeof message?.messageId !== "string" || message.messageId === "") {
            fail(`${chatType}: no platform message id (the runtime's redelivery check needs one)`);
          }
        });
      }
    },
  },
  {
    id: "reply-in-chat",
    title: "posts the reply into the chat (and thread) the message came from",
    async run(init) {
      const CHATS = chatsOf(init);
      const runtime = new ScriptedRuntime(() => ({ reply: "pong" }));
      await withAdapter(init, runtime, async (adapter) => {
        for (const chatType of ["dm", "thread"] as const) {
          if (!(init.chatTypes ?? [chatType]).includes(chatType)) continue;
          const chat = CHATS[chatType];
          expectAcknowledged(await adapter.deliver(eventOf({ ...chat, text: "ping" })), chatType);
          await adapter.whenIdle();
          const last = adapter.sent().at(-1);
          if (last?.text !== "pong" || last.chatId !== chat.chatId) {
            fail(`${chatType}: the reply went to ${JSON.stringify(last)}, expected "pong" in ${chat.chatId}`);
          }
          if (chat.threadId && last.threadId !== chat.threadId)
            fail(`thread: the reply is outside thread ${chat.threadId}`);
        }
      });
    },
  },
  {
    id: "redelivery-dedupe",
    title: "a redelivered event carries the same message id and is not answered twice",
    async run(init) {
      const CHATS = chatsOf(init);
      const runtime = new ScriptedRuntime(() => ({ reply: "once" }));
      await withAdapter(init, runtime, async (adapter) => {
        const event = eventOf({ ...CHATS.dm, text: "said once" });
        expectAcknowledged(await adapter.deliver(event), "the event");
        await adapter.whenIdle();
        expectAcknowledged(await adapter.deliver(event), "the redelivery");
        await adapter.whenIdle();
        const ids = runtime.received.map((message) => message.messageId);
        if (ids.length > 2) fail(`${ids.length} messages reached the runtime for one event`);
        if (ids.length === 2 && ids[0] !== ids[1])
          fail(`the redelivery has another message id (${ids.join(" vs ")})`);
        const answers = adapter.sent().filter((message) => message.text === "once");
        if (answers.length !== 1) fail(`the event was answered ${answers.length} times`);
      });
    },
  },
  {
    id: "reply-splitting",
    title: "splits a long reply into messages within the platform's cap, in order, losing nothing",
    async run(init) {
      const CHATS = chatsOf(init);
      const words = Array.from({ length: Math.ceil((init.maxMessageLength * 2.5) / 8) }, (_, i) =>
        `w${i % 1000}`.padEnd(7, "x"),
      );
      const long = words.join(" ");
      const runtime = new ScriptedRuntime(() => ({ reply: long }));
      await withAdapter(init, runtime, async (adapter) => {
        expectAcknowledged(
          await adapter.deliver(eventOf({ ...CHATS.dm, text: "a long answer please" })),
          "the event",
        );
        await adapter.whenIdle();
        const parts = adapter.sent().map((message) => message.text);
        if (parts.length < 3) fail(`${parts.length} messages for a reply of ${long.length} characters`);
        const over = parts.find((part) => part.length > init.maxMessageLength);
        if (over) fail(`a part has ${over.length} characters, over the cap of ${init.maxMessageLength}`);
        if (parts.join(" ").split(/\s+/).join(" ") !== long)
          fail("the parts joined do not give the reply back");
      });
    },
  },
  {
    id: "refusal-answered",
    title: "a message the runtime refuses (4xx) is acknowledged and the refusal is answered in the chat",
    async run(init) {
      const CHATS = chatsOf(init);
      const runtime = new ScriptedRuntime(() => ({ throwAfterStored: new SessionNotFoundError("s-404") }));
      await withAdapter(init, runtime, async (adapter) => {
        expectAcknowledged(
          await adapter.deliver(eventOf({ ...CHATS.dm, text: "/resume s-404" })),
          "the refused event",
        );
        await adapter.whenIdle();
        const answer = adapter.sent().at(-1);
        if (!answer || answer.chatId !== CHATS.dm.chatId || answer.text.trim() === "") {
          fail("the refusal was not answered in the chat");
        }
      });
    },
  },
  {
    id: "failure-answered",
    title: "a turn that fails after the message was saved is answered in the chat, not left silent",
    async run(init) {
      const CHATS = chatsOf(init);
      const runtime = new ScriptedRuntime(() => ({
        throwAfterStored: new EngramError("MODEL_FAILED", "the model did not answer"),
      }));
      await withAdapter(init, runtime, async (adapter) => {
        expectAcknowledged(
          await adapter.deliver(eventOf({ ...CHATS.dm, text: "anyone there?" })),
          "the event",
        );
        await adapter.whenIdle();
        if (adapter.sent().length !== 1)
          fail(`${adapter.sent().length} answers to a failed turn, expected 1`);
      });
    },
  },
  {
    id: "unsaved-not-acknowledged",
    title: "an event whose message could not be saved is not acknowledged, so the platform delivers it again",
    async run(init) {
      if (init.noRedelivery) skipCheck(init.noRedelivery);
      const CHATS = chatsOf(init);
      let failing = true;
      const runtime = new ScriptedRuntime(() =>
        failing
          ? { throwBeforeStored: new StoreError("append", new Error("disk full")) }
          : { reply: "saved now" },
      );
      await withAdapter(init, runtime, async (adapter) => {
        const event = eventOf({ ...CHATS.dm, text: "keep me" });
        const first = await adapter.deliver(event);
        await adapter.whenIdle();
        if (first.acknowledged)
          fail("an unsaved message was acknowledged: the platform will not deliver it again");
        if (adapter.sent().length > 0) fail("an unsaved message was answered");
        failing = false;
        expectAcknowledged(await adapter.deliver(event), "the redelivery");
        await adapter.whenIdle();
        if (
          adapter
            .sent()
            .map((m) => m.text)
            .join() !== "saved now"
        )
          fail("the redelivery was not answered");
      });
    },
  },
  {
    id: "forged-event-refused",
    title: "an event with a wrong signature or secret is refused before it reaches the runtime",
    async run(init) {
      const CHATS = chatsOf(init);
      const runtime = new ScriptedRuntime(() => ({ reply: "must not" }));
      await withAdapter(init, runtime, async (adapter) => {
        if (!adapter.deliverForged) skipCheck("the transport has no signature or secret");
        const answer = await adapter.deliverForged(eventOf({ ...CHATS.dm, text: "forged" }));
        if (answer.acknowledged) fail("a forged event was acknowledged");
        if (answer.status !== undefined && answer.status !== 401 && answer.status !== 403) {
          fail(`a forged event got status ${answer.status}, expected 401 or 403`);
        }
        await adapter.whenIdle();
        if (runtime.received.length > 0) fail("a forged event reached the runtime");
        if (adapter.sent().length > 0) fail("a forged event was answered");
      });
    },
  },
  {
    id: "send-to-source",
    title: "send delivers to the chat and thread of a source, and refuses a source of another platform",
    async run(init) {
      const CHATS = chatsOf(init);
      const runtime = new ScriptedRuntime(() => ({ reply: null }));
      await withAdapter(init, runtime, async (adapter) => {
        await adapter.send({ platform: adapter.platform, chatType: "dm", chatId: CHATS.dm.chatId }, "notice");
        const last = adapter.sent().at(-1);
        if (last?.text !== "notice" || last.chatId !== CHATS.dm.chatId)
          fail(`send delivered ${JSON.stringify(last)}`);
        const other = adapter.platform === "elsewhere" ? "nowhere" : "elsewhere";
        const refused = await adapter
          .send({ platform: other, chatType: "dm", chatId: CHATS.dm.chatId }, "wrong platform")
          .then(
            () => false,
            () => true,
          );
        if (!refused) fail(`send accepted a source of platform ${other}`);
      });
    },
  },
];

/** Runs one check; its outcome as a {@link CheckResult}. */
export async function runAdapterCheck(
  check: AdapterCheck,
  init: AdapterTestInitializer,
): Promise<CheckResult> {
  try {
    await check.run(init);
    return { ok: true };
  } catch (error) {
    if (error instanceof CheckSkipped) return { ok: true, skipped: error.message };
    if (error instanceof CheckFailure) return { ok: false, reason: error.message };
    return { ok: false, reason: `threw ${describeThrown(error)}` };
  }
}

export interface AdapterConformanceReport {
  readonly adapter: string;
  readonly passed: boolean;
  readonly outcomes: readonly { readonly id: string; readonly title: string; readonly result: CheckResult }[];
}

/**
 * Runs every check (or those named in `only`) one after another outside any test runner, between the
 * initializer's `beforeAll` and `afterAll`; a result per check, never stopping at the first failure.
 */
export async function runAdapterConformance(
  init: AdapterTestInitializer,
  props: { readonly only?: readonly string[] } = {},
): Promise<AdapterConformanceReport> {
  const checks = props.only
    ? ADAPTER_CHECKS.filter((check) => props.only?.includes(check.id))
    : ADAPTER_CHECKS;
  await init.beforeAll?.();
  const outcomes = [];
  try {
    for (const check of checks)
      outcomes.push({ id: check.id, title: check.title, result: await runAdapterCheck(check, init) });
  } finally {
    await init.afterAll?.();
  }
  return { adapter: init.name, passed: outcomes.every((outcome) => outcome.result.ok), outcomes };
}
