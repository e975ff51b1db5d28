import pg from "pg";
import { ReconnectBackoff } from "./reconnect-backoff.js";

export interface PostgresNotificationListenerProps {
  /** PostgreSQL connection string; the listener holds one connection of its own on it. */
  readonly url: string;
  readonly channel: string;
  /** Called with the payload of every `NOTIFY` on `channel` (an empty string when it had none). */
  readonly onNotification: (payload: string) => void;
  /** `application_name` of the connection, so operators can tell it apart in `pg_stat_activity`. */
  readonly applicationName?: string;
  /** Called when the connection fails or a reconnection attempt fails. Default: ignore. */
  readonly onConnectionError?: (error: Error) => void;
  /** First and longest pause between reconnection attempts, in ms. Default 50 / 5000. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
}

/** One connection; `failure` is set once the server or the network ended it. */
interface Attempt {
  readonly client: pg.Client;
  /** Connected and listening: from then on a failure is this listener's to handle. */
  listening: boolean;
  failure: Error | undefined;
}

/**
 * `LISTEN channel` on a dedicated Postgres connection that survives the connection: when the server
 * ends it (restart, `pg_terminate_backend`, a network drop), the listener reports the error, reconnects
 * with a jittered, capped backoff and listens again, until `close()`.
 *
 * Notifications sent while it was disconnected are lost (Postgres queues none for a session that is
 * gone): a subscriber that must not miss a change also re-reads what it follows now and then, as the
 * web server's messaging feed polls.
 */
export class PostgresNotificationListener {
  readonly #props: PostgresNotificationListenerProps;
  readonly #backoff: ReconnectBackoff;
  /** The attempt that is listening (or connecting); undefined while waiting to reconnect. */
  #current: Attempt | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reconnecting: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(props: PostgresNotificationListenerProps) {
    this.#props = props;
    this.#backoff = new ReconnectBackoff({
      ...(props.reconnectMinMs === undefined ? {} : { minMs: props.reconnectMinMs }),
      ...(props.reconnectMaxMs === undefined ? {} : { maxMs: props.reconnectMaxMs }),
    });
  }

  /** Connects and listens. Rejects when the first connection fails (nothing retries it then). */
  start(): Promise<void> {
    return this.#open();
  }

  /** Whether a connection is listening now (false while reconnecting and after `close()`). */
  get listening(): boolean {
    return this.#current?.listening === true && !this.#closed;
  }

  async #open(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#props.url,
      keepAlive: true,
      ...(this.#props.applicationName ? { application_name: this.#props.applicationName } : {}),
    });
    const attempt: Attempt = { client, listening: false, failure: undefined };
    // Listeners before connect(): pg emits "error" on a client at any moment once it is connected, and
    // an "error" without a listener ends the process.
    client.on("error", (error) => this.#lost(attempt, error));
    client.on("end", () => this.#lost(attempt, new Error("the listening connection ended")));
    client.on("notification", (message) => {
      if (message.channel === this.#props.channel) this.#props.onNotification(message.payload ?? "");
    });
    this.#current = attempt;
    try {
      await client.connect();
      await client.query(`listen ${quoteIdentifier(this.#props.channel)}`);
      // An error in the same packet as the LISTEN's answer is seen before this continuation runs.
      if (attempt.failure) throw attempt.failure;
    } catch (error) {
      if (this.#current === attempt) this.#current = undefined;
      client.end().catch(() => undefined);
      throw error;
    }
    if (this.#closed) {
      this.#current = undefined;
      await client.end().catch(() => undefined);
      return;
    }
    attempt.listening = true;
  }

  /** The connection of `attempt` failed: reconnect if it was the one listening. */
  #lost(attempt: Attempt, error: Error): void {
    if (attempt.failure) return;
    attempt.failure = error;
    // Still connecting: `#open` sees the failure through its rejected connect or query.
    if (!attempt.listening || this.#current !== attempt) return;
    this.#current = undefined;
    attempt.client.end().catch(() => undefined);
    if (this.#closed) return;
    this.#props.onConnectionError?.(error);
    this.#reconnectLater();
  }

  #reconnectLater(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#reconnecting = this.#open().then(
        () => {
          this.#reconnecting = undefined;
          this.#backoff.reset();
        },
        (error: unknown) => {
          this.#reconnecting = undefined;
          if (this.#closed) return;
          this.#props.onConnectionError?.(error instanceof Error ? error : new Error(String(error)));
          this.#reconnectLater();
        },
      );
    }, this.#backoff.next());
  }

  /** Stops listening and closes the connection; no reconnection after this. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      clearTimeout(this.#timer);
      await this.#reconnecting;
      const current = this.#current;
      this.#current = undefined;
      if (current) await current.client.end().catch(() => undefined);
    })();
    return this.#closing;
  }
}

/** A channel name as a quoted SQL identifier (LISTEN takes no parameters). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
