import {
  InMemorySessionKeyLock,
  InvalidArgumentError,
  type SessionKeyLock,
  SessionKeyLockLostError,
  StoreError,
} from "@engram/core";
import pg from "pg";
import { ReconnectBackoff } from "./reconnect-backoff.js";

export interface PostgresSessionKeyLockProps {
  /** PostgreSQL connection string; the lock opens one connection of its own on it, at first use. */
  readonly url: string;
  /**
   * Keeps keys of different deployments sharing one database apart (advisory locks are per database,
   * not per schema). Default `"public"`; `Database.sessionKeyLock()` passes its schema.
   */
  readonly namespace?: string;
  /** First and longest pause between two tries while another process holds a key. Default 2 / 50 ms. */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /** Called when the lock's connection fails (held keys are then lost and reported to their holders). */
  readonly onConnectionError?: (error: Error) => void;
  /** `application_name` of the lock's connection. Default `"engram:session-key-lock"`. */
  readonly applicationName?: string;
  /**
   * How long an acquisition keeps reconnecting after the lock's connection failed, in ms, before it
   * rejects with `STORE_FAILED`. Default 5000. Reconnections pause with a jittered backoff from
   * `reconnectMinMs` (default 50) doubling up to `reconnectMaxMs` (default 1000), shared by every
   * acquisition of this lock, so a server that is down is not asked once per waiting turn.
   */
  readonly reconnectWindowMs?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
}

type LockOp = "lock" | "unlock";

interface PendingOp {
  readonly op: LockOp;
  readonly key: string;
  resolve(ok: boolean): void;
  reject(error: unknown): void;
}

interface Connection {
  readonly client: pg.Client;
  readonly ready: Promise<void>;
  /**
   * Lock statements waiting for the one in flight. One statement at a time on the connection (pg 8
   * warns about overlapping queries, pg 9 refuses them); whatever queued meanwhile goes out as ONE
   * statement, so many turns' try-locks and unlocks share a round trip instead of queueing behind
   * each other's.
   */
  pending: PendingOp[];
  sending: boolean;
  /** Aborts when the connection is gone: every advisory lock taken on it is released by the server. */
  readonly lost: AbortController;
}

const TRY_LOCK = "select pg_try_advisory_lock(hashtext($1), hashtext($2)) as ok";
const UNLOCK = "select pg_advisory_unlock(hashtext($1), hashtext($2)) as ok";
// Several operations in one statement. Their order inside it does not matter: advisory locks are
// re-entrant per connection, so an unlock and a try-lock of the same key (a key handed from one
// local holder to the next) leave it held once whichever runs first, and keys are otherwise
// independent. Results come back by position.
const BATCH = `select o.ord, case when o.op = 'unlock'
    then pg_advisory_unlock(hashtext($1), hashtext(o.key))
    else pg_try_advisory_lock(hashtext($1), hashtext(o.key)) end as ok
  from unnest($2::text[], $3::text[]) with ordinality as o(op, key, ord)`;

/**
 * {@link SessionKeyLock} across processes: PostgreSQL session-level advisory locks
 * `(hashtext(namespace), hashtext(key))`, all taken on ONE dedicated connection per instance (use one
 * instance per process).
 *
 * - Not a pool connection: a turn holds its key for a whole model call, and holding pool connections
 *   that long would starve the turn's own queries.
 * - `pg_try_advisory_lock`, retried with a growing, jittered pause while another process holds the key:
 *   a blocking `pg_advisory_lock` would stall every other key's lock and unlock queued on the same
 *   connection.
 * - Callers of one key in this process wait in an in-process queue first, so Postgres only arbitrates
 *   between processes and the advisory lock's re-entrancy within a session never lets two local
 *   holders in. A hash collision only serialises two unrelated keys across processes.
 * - A process that dies closes its connection and the server frees its locks: nothing to clean up.
 *   When the connection drops under a live process, holders are told through their signal and
 *   `withLock` rejects with `SESSION_KEY_LOCK_LOST` (their turn may have overlapped another process's).
 *   Acquisitions open a new connection, after a jittered backoff when the last one failed, and retry
 *   for `reconnectWindowMs` (a try-lock on a connection that died held nothing: the server freed it)
 *   before they reject with `STORE_FAILED`. The connection has an `error` listener for its whole life:
 *   a dropped connection never ends the process.
 */
export class PostgresSessionKeyLock implements SessionKeyLock {
  readonly #url: string;
  readonly #namespace: string;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #onConnectionError: ((error: Error) => void) | undefined;
  readonly #applicationName: string;
  readonly #reconnectWindowMs: number;
  readonly #backoff: ReconnectBackoff;
  /** No new connection before this time (epoch ms): the backoff after a failed one. */
  #reconnectAt = 0;
  /** Why the last connection failed: the cause of an acquisition that gives up before trying again. */
  #lastFailure: unknown;
  readonly #local = new InMemorySessionKeyLock();
  readonly #running = new Set<Promise<unknown>>();
  #connection: Connection | undefined;
  #closed = false;

  constructor(props: PostgresSessionKeyLockProps) {
    this.#url = props.url;
    this.#namespace = `engram:session-key:${props.namespace ?? "public"}`;
    this.#retryMinMs = props.retryMinMs ?? 2;
    this.#retryMaxMs = props.retryMaxMs ?? 50;
    if (!(this.#retryMinMs > 0) || !(this.#retryMaxMs >= this.#retryMinMs)) {
      throw new InvalidArgumentError("retryMinMs", "must be > 0 and at most retryMaxMs");
    }
    this.#onConnectionError = props.onConnectionError;
    this.#applicationName = props.applicationName ?? "engram:session-key-lock";
    this.#reconnectWindowMs = props.reconnectWindowMs ?? 5_000;
    this.#backoff = new ReconnectBackoff({
      minMs: props.reconnectMinMs ?? 50,
      maxMs: props.reconnectMaxMs ?? 1_000,
    });
  }

  withLock<T>(key: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const held = this.#local.withLock(key, () => this.#hold(key, fn));
    this.#running.add(held);
    const forget = () => this.#running.delete(held);
    held.then(forget, forget);
    return held;
  }

  async #hold<T>(key: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const connection = await this.#acquire(key);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await fn(connection.lost.signal) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    // Not awaited: the unlock is queued on the same connection, so this process's next try-lock of any
    // key runs after it; another process at worst retries once. The turn's caller need not wait.
    void this.#release(connection, key);
    if (connection.lost.signal.aborted) throw new SessionKeyLockLostError(key, connection.lost.signal.reason);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  async #acquire(key: string): Promise<Connection> {
    let pause = this.#retryMinMs;
    const giveUpAt = Date.now() + this.#reconnectWindowMs;
    for (;;) {
      if (this.#closed) throw new StoreError("session-key-lock.acquire", new Error("the lock is closed"));
      // A connection that died while we paused held nothing of ours: the next try opens a new one.
      const connection = await this.#connect(giveUpAt);
      let ok: boolean;
      try {
        await connection.ready;
        ok = await this.#query(connection, "lock", key);
      } catch (error) {
        this.#lose(connection, error);
        // Whatever the try-lock did died with the connection: try again on a new one, for a while.
        if (this.#closed || Date.now() >= giveUpAt) throw new StoreError("session-key-lock.acquire", error);
        continue;
      }
      if (ok && !connection.lost.signal.aborted) return connection;
      await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random() * 0.5)));
      pause = Math.min(this.#retryMaxMs, pause * 2);
    }
  }

  async #release(connection: Connection, key: string): Promise<void> {
    if (connection.lost.signal.aborted) return; // the server freed it with the connection
    try {
      if (!(await this.#query(connection, "unlock", key))) throw new Error("the advisory lock was not held");
    } catch (error) {
      // An unlock that failed may leave the key locked for as long as the connection lives: close it,
      // which frees every lock on it (and reports the other holders' locks as lost).
      this.#lose(connection, error);
    }
  }

  /**
   * Runs one lock operation on `connection`: sent at once when the connection is idle, otherwise
   * with everything else queued behind the statement in flight (one round trip for all of them).
   */
  #query(connection: Connection, op: LockOp, key: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      connection.pending.push({ op, key, resolve, reject });
      if (!connection.sending) void this.#send(connection);
    });
  }

  async #send(connection: Connection): Promise<void> {
    connection.sending = true;
    while (connection.pending.length > 0) {
      const ops = connection.pending;
      connection.pending = [];
      try {
        const answers = await this.#run(connection, ops);
        for (let i = 0; i < ops.length; i++) ops[i]!.resolve(answers[i] === true);
      } catch (error) {
        for (const op of ops) op.reject(error);
      }
    }
    connection.sending = false;
  }

  async #run(connection: Connection, ops: readonly PendingOp[]): Promise<boolean[]> {
    if (ops.length === 1) {
      const only = ops[0]!;
      const result = await connection.client.query<{ ok: boolean }>(only.op === "lock" ? TRY_LOCK : UNLOCK, [
        this.#namespace,
        only.key,
      ]);
      return [result.rows[0]?.ok === true];
    }
    const result = await connection.client.query<{ ord: string | number; ok: boolean }>(BATCH, [
      this.#namespace,
      ops.map((o) => o.op),
      ops.map((o) => o.key),
    ]);
    const answers = new Array<boolean>(ops.length).fill(false);
    for (const row of result.rows) answers[Number(row.ord) - 1] = row.ok === true;
    return answers;
  }

  /** The live connection, or a new one once the backoff after a failed one has passed. */
  async #connect(giveUpAt: number): Promise<Connection> {
    for (;;) {
      if (this.#connection && !this.#connection.lost.signal.aborted) return this.#connection;
      const wait = this.#reconnectAt - Date.now();
      if (wait <= 0) break;
      if (Date.now() + wait > giveUpAt) {
        throw new StoreError("session-key-lock.acquire", this.#lastFailure);
      }
      // Every waiting acquisition wakes here; the first one opens the connection, the others share it.
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const client = new pg.Client({
      connectionString: this.#url,
      keepAlive: true,
      application_name: this.#applicationName,
    });
    const lost = new AbortController();
    const connection: Connection = {
      client,
      lost,
      ready: client.connect().then(() => {
        if (!lost.signal.aborted) this.#backoff.reset();
      }),
      pending: [],
      sending: false,
    };
    // In the same tick as connect(), so before any event: pg emits "error" at any moment of the
    // connection's life, and an "error" without a listener ends the process.
    client.on("error", (error) => this.#lose(connection, error));
    client.on("end", () => this.#lose(connection, new Error("the lock connection ended")));
    connection.ready.catch(() => undefined);
    this.#connection = connection;
    return connection;
  }

  #lose(connection: Connection, reason: unknown): void {
    if (this.#connection === connection) this.#connection = undefined;
    if (connection.lost.signal.aborted) return;
    // The next connection waits a little, longer after each failure in a row.
    this.#reconnectAt = Date.now() + this.#backoff.next();
    this.#lastFailure = reason;
    connection.lost.abort(reason);
    if (!this.#closed && reason instanceof Error) this.#onConnectionError?.(reason);
    connection.client.end().catch(() => undefined);
  }

  /** Waits for running holders, rejects later callers, and closes the connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#running]);
    await this.#local.close();
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection && !connection.lost.signal.aborted) {
      connection.lost.abort(new Error("the lock was closed"));
      await connection.client.end().catch(() => undefined);
    }
  }
}
