/**
 * Gateway ingest through the shipped executable (`dist/main.js`, a child process) on Postgres, with the
 * defaults a user gets: the offline model and Holographic memory. Each message is one whole turn over
 * HTTP: route, persist the user message, run the agent (memory prefetch + sync), persist the reply,
 * mark the turn completed.
 *
 * - `gateway.ingest.first`: first messages of new chats (session creation), at the 10k size;
 * - `gateway.ingest`: messages/s and p50/p99 latency spread evenly over 1, 100 and 10k active
 *   sessions (concurrency min(sessions, 64): one chat's turns run one at a time anyway). Above the
 *   agent cache (`ENGRAM_GATEWAY_MAX_AGENTS`, 128) every message also evicts an agent, committing its
 *   memory first, and builds a new one: that is the real cost of many active chats;
 * - the 10k case again with `ENGRAM_GATEWAY_MAX_AGENTS=10000` (`agentCap` in the output): the steady
 *   cost of a turn when every active chat keeps its agent;
 * - `gateway.agents.rss`: the gateway's RSS growth per 1,000 cached agents (cap raised to 3,000; the
 *   least-squares slope over six readings 500 agents apart).
 *
 * `ENGRAM_BENCH_CPU_PROF_DIR=<dir>` writes a V8 CPU profile of the gateway process there (hot-path work).
 *
 * Targets (TARGETS.md, issue 18) are ratios to figures of the same run: pgbench's durable single-row
 * INSERT (run first, at 1 and 32 clients, in a schema of its own; when pgbench is absent the lines say
 * why) and the all-cached rate. `gateway.ratios` prints them:
 * - all cached, 10k sessions: msg/s over pgbench-32 (goal >= 0.10);
 * - default cache, 10k sessions: msg/s over the all-cached rate (goal >= 0.80);
 * - 1 session, concurrency 1: p50 (goal <= 2 ms);
 * - scaling: msg/s and p50 at each size, and each rate over the 1-session rate.
 *
 * Short by default (3 s measured per size, pgbench 4 s). Knobs: `ENGRAM_BENCH_FULL=1` (6 s per size,
 * pgbench 12 s), `ENGRAM_BENCH_SESSIONS=1,100,10000`, `ENGRAM_BENCH_MEASURE_MS`,
 * `ENGRAM_BENCH_PGBENCH_SECONDS`. Postgres only: without `DATABASE_URL` the benchmark prints why it
 * skipped.
 */
import { readFileSync } from "node:fs";
import { Agent as HttpAgent, request } from "node:http";
import { createServer } from "node:net";
import { percentile, pgbenchReference, ratioTo, report } from "@engram/bench";
import { E2EDatabase } from "../e2e/harness/e2e-database.js";
import { ensureGatewayBuilt } from "../e2e/harness/ensure-built.js";
import { GatewayProcess } from "../e2e/harness/gateway-process.js";

const TOKEN = "bench-token-0123456789abcdef";
const FULL = process.env.ENGRAM_BENCH_FULL === "1";
const SIZES = (process.env.ENGRAM_BENCH_SESSIONS ?? "1,100,10000")
  .split(",")
  .map((size) => Number(size.trim()))
  .filter((size) => Number.isInteger(size) && size > 0);
const LARGEST = Math.max(...SIZES);
const MAX_CONCURRENCY = 64;
const MEASURE_MS = Number(process.env.ENGRAM_BENCH_MEASURE_MS ?? (FULL ? 6_000 : 3_000));
const WARMUP_MS = FULL ? 1_000 : 500;

const dm = (chat: string) => ({ platform: "telegram", chatId: chat, chatType: "dm", userId: chat });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** A keep-alive HTTP client for one gateway; `send` resolves with the status once the body is read. */
function client(url: string, sockets: number) {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: sockets });
  const { hostname, port } = new URL(url);
  const send = (chat: string, text: string) =>
    new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ source: dm(chat), text });
      const req = request(
        {
          agent,
          hostname,
          port,
          path: "/v1/messages",
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            authorization: `Bearer ${TOKEN}`,
          },
        },
        (res) => {
          res.resume();
          res.once("end", () => resolve(res.statusCode ?? 0));
          res.once("error", reject);
        },
      );
      req.once("error", reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

/** Sends the first message of chats `0..count-1` (prefix `prefix`) with `concurrency` lanes; returns msg/s. */
async function createChats(
  send: (chat: string, text: string) => Promise<number>,
  prefix: string,
  count: number,
  concurrency: number,
): Promise<number> {
  let next = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        if ((await send(`${prefix}${i}`, "hello, first message")) !== 200) failed++;
      }
    }),
  );
  if (failed > 0) throw new Error(`${failed} first messages failed`);
  return count / ((performance.now() - start) / 1000);
}

/** Messages spread round-robin over `sessions` chats for MEASURE_MS (after WARMUP_MS). */
async function steady(
  send: (chat: string, text: string) => Promise<number>,
  prefix: string,
  sessions: number,
  concurrency: number,
) {
  let next = 0;
  const latencies: number[] = [];
  let errors = 0;
  const begin = performance.now();
  const warmEnd = begin + WARMUP_MS;
  const end = warmEnd + MEASURE_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const sent = performance.now();
        if (sent >= end) return;
        const i = next++;
        const status = await send(`${prefix}${i % sessions}`, `message ${i}`);
        const done = performance.now();
        if (sent < warmEnd) continue;
        if (status === 200) latencies.push(done - sent);
        else errors++;
      }
    }),
  );
  const seconds = (performance.now() - warmEnd) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    msgPerSec: Math.round(latencies.length / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    messages: latencies.length,
    errors,
  };
}

function rssMiBOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kib / 1024) * 10) / 10;
}

async function cachedAgents(gateway: GatewayProcess): Promise<number> {
  const { text } = await gateway.get("/metrics");
  return Number(/^engram_gateway_agent_cache_size (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

export default async function gatewayIngestBench(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.log(
      "gateway.ingest: SKIPPED — DATABASE_URL is not set; the ingest target is defined on Postgres",
    );
    return;
  }
  await ensureGatewayBuilt();
  const references = pgbenchReference({
    url,
    clients: [1, 32],
    ...(process.env.ENGRAM_BENCH_PGBENCH_SECONDS ? {} : { seconds: FULL ? 12 : 4 }),
  });
  const pgbench32 = references.find((r) => r.clients === 32);
  const scaling: Array<{ sessions: number; msgPerSec: number; p50Ms: number; p99Ms: number }> = [];
  const database = await E2EDatabase.create({ name: "postgres", url });
  const profileDir = process.env.ENGRAM_BENCH_CPU_PROF_DIR;
  const start = async (extra: Record<string, string>) =>
    GatewayProcess.start({
      ...(profileDir ? { execArgv: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}),
      env: {
        ...database.env(),
        ENGRAM_GATEWAY_PORT: String(await freePort()),
        ENGRAM_GATEWAY_TOKEN: TOKEN,
        // Per-request info logs would put two JSON lines per message through a pipe into this process.
        ENGRAM_LOG_LEVEL: "warn",
        ENGRAM_GATEWAY_EXPIRY_SWEEP_MS: "0",
        ...extra,
      },
    });
  let gateway = await start({});
  try {
    const http = client(gateway.url, MAX_CONCURRENCY);
    for (const sessions of SIZES) {
      const concurrency = Math.min(sessions, MAX_CONCURRENCY);
      const prefix = `s${sessions}-`;
      const firstPerSec = await createChats(http.send, prefix, sessions, concurrency);
      if (sessions === LARGEST) {
        report({
          bench: "gateway.ingest.first",
          msgPerSec: Math.round(firstPerSec),
          sessions,
          concurrency,
          backend: "postgres",
        });
      }
      const result = await steady(http.send, prefix, sessions, concurrency);
      scaling.push({ sessions, msgPerSec: result.msgPerSec, p50Ms: result.p50Ms, p99Ms: result.p99Ms });
      report({
        bench: "gateway.ingest",
        ...result,
        sessions,
        concurrency,
        cachedAgents: await cachedAgents(gateway),
        gatewayRssMiB: rssMiBOf(gateway.pid),
        backend: "postgres",
        model: "offline",
        memory: "holographic",
        agentCap: 128,
      });
    }
    http.close();

    // 10k sessions again with the agent cache sized to the working set: the steady cost of a turn,
    // without the commit-on-evict and memory reload that a 128-agent cache pays on every message.
    await gateway.kill("SIGTERM");
    gateway = await start({ ENGRAM_GATEWAY_MAX_AGENTS: String(LARGEST) });
    const sizedConcurrency = Math.min(LARGEST, MAX_CONCURRENCY);
    const sized = client(gateway.url, sizedConcurrency);
    await createChats(sized.send, "sized-", LARGEST, sizedConcurrency);
    const sizedResult = await steady(sized.send, "sized-", LARGEST, sizedConcurrency);
    report({
      bench: "gateway.ingest",
      ...sizedResult,
      sessions: LARGEST,
      concurrency: sizedConcurrency,
      cachedAgents: await cachedAgents(gateway),
      gatewayRssMiB: rssMiBOf(gateway.pid),
      backend: "postgres",
      model: "offline",
      memory: "holographic",
      agentCap: LARGEST,
    });
    sized.close();

    const largest = scaling.find((s) => s.sessions === LARGEST);
    const single = scaling.find((s) => s.sessions === 1);
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    report({
      bench: "gateway.ratios",
      sessions: LARGEST,
      pgbench32Tps: pgbench32?.tps ?? null,
      ...(pgbench32?.reason ? { pgbenchMissing: pgbench32.reason } : {}),
      allCachedMsgPerSec: sizedResult.msgPerSec,
      allCachedVsPgbench32: ratioTo(sizedResult.msgPerSec, pgbench32),
      allCachedVsPgbench32Goal: 0.1,
      defaultCacheMsgPerSec: largest?.msgPerSec ?? null,
      defaultCacheVsAllCached:
        largest && sizedResult.msgPerSec > 0 ? round3(largest.msgPerSec / sizedResult.msgPerSec) : null,
      defaultCacheVsAllCachedGoal: 0.8,
      oneSessionP50Ms: single?.p50Ms ?? null,
      oneSessionP50GoalMs: 2,
      scaling: scaling.map((s) => ({
        ...s,
        vsOneSession: single && single.msgPerSec > 0 ? round3(s.msgPerSec / single.msgPerSec) : null,
      })),
    });

    // RSS per 1k cached agents: a fresh process with room for 3,000 agents, grown 1k at a time.
    await gateway.kill("SIGTERM");
    gateway = await start({ ENGRAM_GATEWAY_MAX_AGENTS: "3000" });
    const rssClient = client(gateway.url, MAX_CONCURRENCY);
    const points: Array<{ agents: number; rssMiB: number }> = [];
    for (let k = 1; k <= 6; k++) {
      await createChats(rssClient.send, `rss${k}-`, 500, MAX_CONCURRENCY);
      points.push({ agents: await cachedAgents(gateway), rssMiB: rssMiBOf(gateway.pid) });
    }
    rssClient.close();
    // Least-squares slope over the points: single readings move with the garbage collector's timing.
    const n = points.length;
    const meanX = points.reduce((sum, p) => sum + p.agents, 0) / n;
    const meanY = points.reduce((sum, p) => sum + p.rssMiB, 0) / n;
    const slope =
      points.reduce((sum, p) => sum + (p.agents - meanX) * (p.rssMiB - meanY), 0) /
      points.reduce((sum, p) => sum + (p.agents - meanX) ** 2, 0);
    report({
      bench: "gateway.agents.rss",
      rssMiBPer1kAgents: Math.round(slope * 1000 * 10) / 10,
      points,
      backend: "postgres",
    });
  } finally {
    await gateway.kill("SIGTERM");
    await database.destroy();
  }
}
