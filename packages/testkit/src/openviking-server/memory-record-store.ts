/** One extracted long-term memory, addressed like an OpenViking memory file. */
export interface MemoryRecord {
  /** `viking://user/<user>/memories/<category>/<id>.md` */
  readonly uri: string;
  readonly category: string;
  readonly content: string;
  readonly abstract: string;
  readonly sessionId: string;
  readonly createdAt: number;
}

/**
 * Where the stand-in server keeps extracted memories. Implementations must make `add` all-or-nothing
 * and keep records across server restarts when they are durable.
 */
export interface MemoryRecordStore {
  add(records: readonly MemoryRecord[]): Promise<void>;
  list(): Promise<MemoryRecord[]>;
  get(uri: string): Promise<MemoryRecord | undefined>;
  /** False when nothing was stored under `uri`. */
  delete(uri: string): Promise<boolean>;
  addSession(sessionId: string, createdAt: number): Promise<void>;
  hasSession(sessionId: string): Promise<boolean>;
  /** Every session id, oldest first. */
  listSessions(): Promise<string[]>;
  deleteSession(sessionId: string): Promise<boolean>;
}

/** Process-memory reference implementation (lost on restart). */
export class InMemoryMemoryRecordStore implements MemoryRecordStore {
  readonly #records = new Map<string, MemoryRecord>();
  readonly #sessions = new Set<string>();

  async add(records: readonly MemoryRecord[]): Promise<void> {
    for (const record of records) this.#records.set(record.uri, record);
  }

  async list(): Promise<MemoryRecord[]> {
    return [...this.#records.values()];
  }

  async get(uri: string): Promise<MemoryRecord | undefined> {
    return this.#records.get(uri);
  }

  async delete(uri: string): Promise<boolean> {
    return this.#records.delete(uri);
  }

  async addSession(sessionId: string): Promise<void> {
    this.#sessions.add(sessionId);
  }

  async hasSession(sessionId: string): Promise<boolean> {
    return this.#sessions.has(sessionId);
  }

  async listSessions(): Promise<string[]> {
    return [...this.#sessions];
  }

  async deleteSession(sessionId: string): Promise<boolean> {
    return this.#sessions.delete(sessionId);
  }
}
