/**
 * The OpenAI-compatible API (issue 19) through the official `openai` npm client against the real
 * gateway on loopback (the agent with the offline model and Holographic memory), on PGlite and
 * Postgres: models, completions with and without streaming, sessions named by header or `user`, a
 * client that resends its history never duplicates the transcript, memory across `/new`, bearer
 * auth, and hostile input answered with a coded 4xx that stores nothing.
 */

import { EchoTurnRunner } from "@engram/sessions";
import { describeEachBackend } from "@engram/store/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseGatewayConfig } from "../config/gateway-config.js";

const TOKEN = "test-token-0123456789";

describeEachBackend("OpenAI-compatible API with the openai client", (db) => {
  let gateway: Gateway;
  let base: string;
  let client: OpenAI;

  beforeAll(async () => {
    const config = parseGatewayConfig({
      token: TOKEN,
      resetPolicy: { mode: "idle", idleMinutes: 600 },
      expirySweepIntervalMs: 0,
    });
    gateway = createGateway({ config, db: db() });
    base = (await gateway.listen({ host: "127.0.0.1", port: 0 })).address;
    client = new OpenAI({ baseURL: `${base}/v1`, apiKey: TOKEN, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close({ drainDeadlineMs: 5000 });
  });

  const transcriptOf = async (sessionKey: string) => {
    const entry = await gateway.routingIndex.get(sessionKey);
    if (!entry) return [];
    const messages = await gateway.transcripts.getMessages(entry.sessionId);
    return messages.map((m) => [m.role, m.content]);
  };

  it("lists the gateway's model and retrieves it", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(["engram"]);
    expect(await client.models.retrieve("engram")).toMatchObject({ id: "engram", object: "model" });
    await expect(client.models.retrieve("gpt-4o")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("answers a completion in the session of `user`, and streams the same kind of answer in chunks", async () => {
    const { data: completion, response } = await client.chat.completions
      .create({
        model: "engram",
        user: "alice",
        messages: [
          { role: "system", content: "You are helpful." },
          { role: "user", content: "Hello there" },
        ],
      })
      .withResponse();
    const entry = await gateway.routingIndex.get("agent:main:openai:dm:alice");
    expect(response.headers.get("x-engram-session-id")).toBe(entry?.sessionId);
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    const first = completion.choices[0]!.message.content!;
    expect(first).toContain("[offline model] You said: Hello there");

    const stream = await client.chat.completions.create({
      model: "engram",
      user: "alice",
      stream: true,
      messages: [
        { role: "user", content: "Hello there" },
        { role: "assistant", content: first },
        {
          role: "user",
          content: "Tell me a longer story about the sea, please, with waves and gulls and ships",
        },
      ],
    });
    const deltas: string[] = [];
    const finishes: (string | null)[] = [];
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      const choice = chunk.choices[0]!;
      if (choice.delta.content) deltas.push(choice.delta.content);
      finishes.push(choice.finish_reason);
    }
    expect(deltas.length).toBeGreaterThan(1); // really streamed in pieces
    expect(deltas.join("")).toContain("You said: Tell me a longer story about the sea");
    expect(finishes.at(-1)).toBe("stop");
    expect(await transcriptOf("agent:main:openai:dm:alice")).toEqual([
      ["user", "Hello there"],
      ["assistant", first],
      ["user", "Tell me a longer story about the sea, please, with waves and gulls and ships"],
      ["assistant", deltas.join("")],
    ]);
  });

  it("appends only the new user turns when the client resends its history; an exact repeat runs nothing", async () => {
    const headers = { "X-Engram-Session": "resender-1" };
    const ask = async (messages: OpenAI.ChatCompletionMessageParam[], stream = false) => {
      if (!stream) {
        const done = await client.chat.completions.create({ model: "engram", messages }, { headers });
        return done.choices[0]!.message.content!;
      }
      let text = "";
      const chunks = await client.chat.completions.create(
        { model: "engram", messages, stream: true },
        { headers },
      );
      for await (const chunk of chunks) text += chunk.choices[0]?.delta.content ?? "";
      return text;
    };
    const a1 = await ask([{ role: "user", content: "one" }]);
    const a2 = await ask([
      { role: "system", content: "Be brief." },
      { role: "user", content: "one" },
      { role: "assistant", content: a1 },
      { role: "user", content: "two" },
    ]);
    const third: OpenAI.ChatCompletionMessageParam[] = [
      { role: "user", content: "one" },
      { role: "assistant", content: a1 },
      { role: "user", content: "two" },
      { role: "assistant", content: a2 },
      { role: "user", content: [{ type: "text", text: "three" }] },
    ];
    const a3 = await ask(third, true);
    // The client did not get the answer (a timeout, say) and sends the same request again.
    expect(await ask(third)).toBe(a3);
    expect(await ask(third, true)).toBe(a3);
    const key = "agent:main:openai:dm:resender-1";
    expect(await transcriptOf(key)).toEqual([
      ["user", "one"],
      ["assistant", a1],
      ["user", "two"],
      ["assistant", a2],
      ["user", "three"],
      ["assistant", a3],
    ]);
    for (const answer of [a1, a2, a3]) expect(answer).toContain("[offline model]");

    // A client whose history is its own (an edited reply, another front end): only its new user
    // turns after its last assistant message are ours to run; two in a row are one turn.
    const a4 = await ask([
      { role: "user", content: "one" },
      { role: "assistant", content: "an answer this gateway never gave" },
      { role: "user", content: "four" },
      { role: "user", content: "five" },
    ]);
    expect(await transcriptOf(key)).toEqual([
      ["user", "one"],
      ["assistant", a1],
      ["user", "two"],
      ["assistant", a2],
      ["user", "three"],
      ["assistant", a3],
      ["user", "four\n\nfive"],
      ["assistant", a4],
    ]);
  });

  it("gives an OpenAI client Engram memory: a preference told before /new is recalled after it", async () => {
    const say = async (content: string) =>
      (
        await client.chat.completions.create({
          model: "engram",
          user: "bob",
          messages: [{ role: "user", content }],
        })
      ).choices[0]!.message.content!;
    await say("I prefer tabs over spaces");
    await say("/new");
    expect(await say("what do I prefer?")).toContain("tabs over spaces");
  });

  it("refuses a wrong or missing bearer token", async () => {
    const intruder = new OpenAI({ baseURL: `${base}/v1`, apiKey: "wrong-token-000000000", maxRetries: 0 });
    const refused = await intruder.chat.completions
      .create({ model: "engram", user: "eve", messages: [{ role: "user", content: "hi" }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe("UNAUTHORIZED");
    expect((await fetch(`${base}/v1/models`)).status).toBe(401);
    expect(await transcriptOf("agent:main:openai:dm:eve")).toEqual([]);
  });

  it("answers hostile input with a coded 4xx and stores nothing", async () => {
    const post = async (body: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const json = (await response.json()) as { error?: { code?: string } };
      return [response.status, json.error?.code];
    };
    const user = (content: unknown) => ({ role: "user", content });
    const ok = { model: "engram", user: "mallory", messages: [user("hi")] };
    expect(await post({ ...ok, user: undefined })).toEqual([400, "INVALID_ARGUMENT"]); // no session
    expect(await post(ok, { "x-engram-session": "../../etc" })).toEqual([400, "INVALID_ID"]);
    expect(await post({ ...ok, user: "a/b" })).toEqual([400, "INVALID_ID"]);
    expect(await post({ ...ok, user: "x".repeat(500) })).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await post({ ...ok, model: "gpt-4o" })).toEqual([404, "NOT_FOUND"]);
    expect(await post({ ...ok, messages: [] })).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await post({ ...ok, messages: "hi" })).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await post({ ...ok, messages: [{ role: "wizard", content: "hi" }] })).toEqual([
      400,
      "INVALID_ARGUMENT",
    ]);
    expect(await post({ ...ok, messages: [user("hi"), { role: "assistant", content: "last" }] })).toEqual([
      400,
      "INVALID_ARGUMENT",
    ]);
    expect(
      await post({ ...ok, messages: [user([{ type: "image_url", image_url: { url: "http://x/y.png" } }])] }),
    ).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await post({ ...ok, messages: [user(42)] })).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await post({ ...ok, n: 3 })).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await post({ ...ok, stream: "yes" })).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await post({ ...ok, messages: [user("  ")] })).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await post({ ...ok, messages: [user("x".repeat(70_000))] })).toEqual([413, "CONTENT_TOO_LARGE"]);
    expect(await post({ ...ok, messages: Array.from({ length: 3000 }, () => user("hi")) })).toEqual([
      400,
      "INVALID_ARGUMENT",
    ]);
    expect(await post("{not json")).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await post("[]")).toEqual([400, "INVALID_ARGUMENT"]);
    // A refused stream is refused before the event stream starts: a plain coded error.
    expect(await post({ ...ok, stream: true, model: "nope" })).toEqual([404, "NOT_FOUND"]);
    expect(await transcriptOf("agent:main:openai:dm:mallory")).toEqual([]);
  });
});

describeEachBackend("OpenAI-compatible API under retries and disconnects", (db) => {
  let gateway: Gateway;
  let base: string;
  let client: OpenAI;
  let runner: EchoTurnRunner;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    runner = new EchoTurnRunner();
    const config = parseGatewayConfig({ token: TOKEN, expirySweepIntervalMs: 0 });
    gateway = createGateway({ config, db: db(), runner });
    base = (await gateway.listen({ host: "127.0.0.1", port: 0 })).address;
    client = new OpenAI({ baseURL: `${base}/v1`, apiKey: TOKEN, maxRetries: 0 });
  });
  afterAll(async () => {
    release();
    await gateway?.close({ drainDeadlineMs: 5000 });
  });

  /** Holds every turn until `release()`; resolves once `count` turns in total have started. */
  const holdTurns = () => {
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    runner.hold = () => gate;
  };
  const turnsStarted = async (count: number) => {
    const until = Date.now() + 10_000;
    while (runner.inputs.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(runner.inputs.length).toBe(count);
  };
  const transcriptOf = async (name: string) => {
    const entry = await gateway.routingIndex.get(`agent:main:openai:dm:${name}`);
    return entry ? (await gateway.transcripts.getMessages(entry.sessionId)).map((m) => m.content) : [];
  };

  it("runs concurrent copies of one request once and answers each with the same reply", async () => {
    const history: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "first" }];
    await client.chat.completions.create({ model: "engram", user: "racer", messages: history });
    const before = runner.inputs.length;
    holdTurns();
    const request = {
      model: "engram",
      user: "racer",
      messages: [
        ...history,
        { role: "assistant" as const, content: "echo: first" },
        { role: "user" as const, content: "second" },
      ],
    };
    const answers = Promise.all(Array.from({ length: 4 }, () => client.chat.completions.create(request)));
    await turnsStarted(before + 1);
    release();
    const replies = (await answers).map((a) => a.choices[0]!.message.content);
    expect(replies).toEqual(Array(4).fill("echo: second"));
    expect(runner.inputs.length).toBe(before + 1);
    expect(await transcriptOf("racer")).toEqual(["first", "echo: first", "second", "echo: second"]);
    runner.hold = undefined;
  });

  it("finishes a streamed turn whose client went away; the client's retry gets that answer without a second run", async () => {
    holdTurns();
    const before = runner.inputs.length;
    const abort = new AbortController();
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "are you there?" }];
    const streamed = client.chat.completions
      .create({ model: "engram", user: "leaver", messages, stream: true }, { signal: abort.signal })
      .then(async (stream) => {
        for await (const _ of stream) {
          // The client leaves before the answer.
        }
      });
    await turnsStarted(before + 1);
    abort.abort();
    // Aborted before or after the event stream began: the client raises, or its iterator just ends.
    await streamed.catch(() => undefined);
    release();
    const until = Date.now() + 10_000;
    while ((await transcriptOf("leaver")).length < 2 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect(await transcriptOf("leaver")).toEqual(["are you there?", "echo: are you there?"]);
    runner.hold = undefined;
    const retry = await client.chat.completions.create({ model: "engram", user: "leaver", messages });
    expect(retry.choices[0]!.message.content).toBe("echo: are you there?");
    expect(runner.inputs.length).toBe(before + 1);
    expect(await transcriptOf("leaver")).toEqual(["are you there?", "echo: are you there?"]);
  });
});
