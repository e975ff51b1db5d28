/**
 * Every messaging platform through the real gateway executable, enabled by environment only, against
 * the testkit's stand-in of each platform on loopback, with the default agent (offline model,
 * Holographic): a fact told in a DM is recalled after `/new`; in a group each person has their own
 * session and memory (B does not recall A's fact, A does); a redelivered event is answered once.
 * One parametrised file: Telegram (webhook), Slack (Events API), Discord (gateway WebSocket).
 */
import { DISCORD_CHANNEL_TYPES, startDiscordApiServer } from "@engram/testkit/discord-api-server";
import { postSlackEvent, slackMessageEvent, startSlackApiServer } from "@engram/testkit/slack-api-server";
import {
  postTelegramUpdate,
  startTelegramBotApiServer,
  telegramMessageUpdate,
} from "@engram/testkit/telegram-bot-api-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeE2E, E2E_TOKEN, GatewayProcess } from "./harness/index.js";

type Person = "ana" | "ben";
type Place = "dm" | "group";

/** One platform's stand-in, driven in neutral terms. */
interface PlatformDriver {
  /** Starts the stand-in; the gateway's environment that enables the adapter against it. */
  start(): Promise<Record<string, string>>;
  /** Called once the gateway listens (webhook transports need its URL). */
  connected(gatewayUrl: string): Promise<void>;
  /** Delivers a new message from `person` in `place`; returns a handle that delivers it again. */
  deliver(person: Person, place: Place, text: string): Promise<() => Promise<void>>;
  /** The texts the platform received from the bot, in order. */
  replies(): readonly string[];
  close(): Promise<void>;
}

const TELEGRAM_SECRET = "e2e_platforms-secret";
const telegramDriver = (): PlatformDriver => {
  let api: Awaited<ReturnType<typeof startTelegramBotApiServer>>;
  let webhook = "";
  let nextId = 1;
  const users = { ana: 7301, ben: 7302 } as const;
  return {
    async start() {
      api = await startTelegramBotApiServer();
      return {
        ENGRAM_TELEGRAM_BOT_TOKEN: api.token,
        ENGRAM_TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
        ENGRAM_TELEGRAM_API_BASE_URL: api.baseUrl,
      };
    },
    async connected(url) {
      webhook = `${url}/telegram/webhook`;
    },
    async deliver(person, place, text) {
      const id = nextId++;
      const user = users[person];
      const update = telegramMessageUpdate({
        updateId: id,
        messageId: id,
        chat: place === "dm" ? { id: user, type: "private" } : { id: -7300, type: "group", title: "Team" },
        from: { id: user, first_name: person },
        text,
      });
      const post = async () => {
        expect((await postTelegramUpdate(webhook, update, TELEGRAM_SECRET)).status).toBe(200);
      };
      await post();
      return post;
    },
    replies: () => api.sentMessages.map((m) => m.text),
    close: async () => api?.close(),
  };
};

const SLACK_SECRET = "e2e-platforms-signing-secret";
const slackDriver = (): PlatformDriver => {
  let api: Awaited<ReturnType<typeof startSlackApiServer>>;
  let events = "";
  let nextId = 1;
  const users = { ana: "U0ANA", ben: "U0BEN" } as const;
  return {
    async start() {
      api = await startSlackApiServer();
      return {
        ENGRAM_SLACK_BOT_TOKEN: api.token,
        ENGRAM_SLACK_SIGNING_SECRET: SLACK_SECRET,
        ENGRAM_SLACK_API_URL: api.apiUrl,
      };
    },
    async connected(url) {
      events = `${url}/slack/events`;
    },
    async deliver(person, place, text) {
      const id = nextId++;
      const body = slackMessageEvent({
        eventId: `Ev${id}`,
        channel: place === "dm" ? `D0${users[person].slice(2)}` : "C0TEAM01",
        channelType: place === "dm" ? "im" : "channel",
        user: users[person],
        text,
        ts: `1700000000.${String(id).padStart(6, "0")}`,
      });
      await expect(postSlackEvent(events, body, SLACK_SECRET)).resolves.toMatchObject({ status: 200 });
      return async () => {
        await expect(postSlackEvent(events, body, SLACK_SECRET, { retryNum: 1 })).resolves.toMatchObject({
          status: 200,
        });
      };
    },
    replies: () => api.messages.map((m) => m.text),
    close: async () => api?.close(),
  };
};

const discordDriver = (): PlatformDriver => {
  let api: Awaited<ReturnType<typeof startDiscordApiServer>>;
  let nextId = 1n;
  const users = { ana: "740000000000000001", ben: "740000000000000002" } as const;
  const dmChannels = { ana: "741000000000000001", ben: "741000000000000002" } as const;
  const guild = "742000000000000001";
  const channel = "743000000000000001";
  return {
    async start() {
      api = await startDiscordApiServer();
      for (const id of Object.values(dmChannels)) api.addChannel({ id, type: DISCORD_CHANNEL_TYPES.dm });
      api.addChannel({ id: channel, type: DISCORD_CHANNEL_TYPES.guildText, guildId: guild, name: "team" });
      return { ENGRAM_DISCORD_BOT_TOKEN: api.token, ENGRAM_DISCORD_API_URL: api.apiUrl };
    },
    async connected() {
      await api.whenReady();
    },
    async deliver(person, place, text) {
      const message = {
        id: String(1_300_000_000_000_000_000n + nextId++),
        authorId: users[person],
        ...(place === "dm"
          ? { channelId: dmChannels[person], content: text }
          : // In a guild channel the bot answers when mentioned (the default rule).
            {
              channelId: channel,
              guildId: guild,
              content: `<@${api.botId}> ${text}`,
              mentions: [api.botId],
            }),
      };
      api.dispatchMessage(message);
      // A resumed gateway session replays events the client missed: the same message again.
      return async () => api.dispatchMessage(message);
    },
    replies: () => api.messages.map((m) => m.content),
    close: async () => api?.close(),
  };
};

const PLATFORMS: readonly [string, () => PlatformDriver][] = [
  ["Telegram", telegramDriver],
  ["Slack", slackDriver],
  ["Discord", discordDriver],
];

for (const [platform, driverOf] of PLATFORMS) {
  describeE2E(
    `gateway ${platform} adapter: memory and routing end to end`,
    (gateway) => {
      const driver = driverOf();
      const waitForReplies = async (count: number) => {
        const deadline = Date.now() + 30_000;
        while (driver.replies().length < count) {
          if (Date.now() > deadline)
            throw new Error(`expected ${count} ${platform} replies, got ${driver.replies().length}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return driver.replies();
      };
      /** Delivers one message and resolves with the bot's answer to it. */
      const say = async (person: Person, place: Place, text: string) => {
        const before = driver.replies().length;
        const again = await driver.deliver(person, place, text);
        const replies = await waitForReplies(before + 1);
        return { reply: replies[before] ?? "", again };
      };

      beforeAll(async () => {
        const env = await driver.start();
        await gateway().start(env);
        await driver.connected(gateway().process.url);
      });
      afterAll(async () => {
        await driver.close();
      });

      it("recalls after /new a fact told in a DM", async () => {
        const told = await say("ana", "dm", "My favourite editor theme is solarized-indigo.");
        expect(told.reply).toContain("You said: My favourite editor theme is solarized-indigo.");
        await say("ana", "dm", "/new");
        const answer = await say("ana", "dm", "What is my favourite editor theme?");
        expect(answer.reply).toContain("From memory I recall:");
        expect(answer.reply).toContain("solarized-indigo");
      });

      it("keeps a session and memory per person in a group: B does not recall A's fact, A does", async () => {
        await say("ana", "group", "I prefer the mauve-lagoon colour scheme.");
        await say("ana", "group", "/new");
        const neighbour = await say("ben", "group", "Which colour scheme do I prefer?");
        expect(neighbour.reply).toContain("[offline model]");
        expect(neighbour.reply).not.toContain("mauve-lagoon");
        const owner = await say("ana", "group", "Which colour scheme do I prefer?");
        expect(owner.reply).toContain("mauve-lagoon");
      });

      it("answers a redelivered event once", async () => {
        const first = await say("ben", "dm", "counted once please");
        expect(first.reply).toContain("You said: counted once please");
        const before = driver.replies().length;
        await first.again();
        // Turns of a chat run in order: an answer to the copy would come before this one's.
        const next = await say("ben", "dm", "and the next message");
        expect(next.reply).toContain("You said: and the next message");
        expect(driver.replies().length).toBe(before + 1);
        expect(
          driver.replies().filter((text) => text.includes("You said: counted once please")),
        ).toHaveLength(1);
      });

      if (platform === "Discord") {
        it("refuses to start on an invalid Discord configuration, naming each variable", async () => {
          const started = GatewayProcess.start({
            env: {
              ENGRAM_GATEWAY_TOKEN: E2E_TOKEN,
              ...gateway().database.env(),
              ENGRAM_DISCORD_BOT_TOKEN: "short",
              ENGRAM_DISCORD_RESPOND_TO: "everyone",
            },
            readyTimeoutMs: 15_000,
          });
          const failure = await started.then(
            async (unexpected) => {
              await unexpected.kill("SIGKILL");
              return "";
            },
            (error: Error) => error.message,
          );
          expect(failure).toContain("exited before listening (code 1");
          expect(failure).toContain("ENGRAM_DISCORD_BOT_TOKEN (botToken): must be a Discord bot token");
          expect(failure).toContain("ENGRAM_DISCORD_RESPOND_TO (respondTo)");
        });
      }
    },
    { manualStart: true },
  );
}
