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

/** A background task as `GET /api/v1/tasks/{id}` returns it (times in epoch seconds, like upstream). */
export interface OpenVikingTaskRecord {
  task_id: string;
  task_type: "session_commit";
  status: "pending" | "running" | "completed" | "failed";
  created_at: number;
  updated_at: number;
  resource_id: string;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

/**
 * Where the stand-in server keeps extracted memories, session ids and commit tasks. Implementations must make `add` all-or-nothing
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
  /** Inserts or replaces the task under its id. */
  saveTask(task: OpenVikingTaskRecord): Promise<void>;
  getTask(taskId: string): Promise<OpenVikingTaskRecord | undefined>;
  /** Every task, oldest first. */
  listTasks(): Promise<OpenVikingTaskRecord[]>;
  /**
   * The write-ahead copy of session buffers: messages are journaled when the server acknowledges them and
   * forgotten once an archive holds them, so a server that dies (even between a commit's two phases)
   * restores its buffers at the next start and loses no acknowledged message.
   */
  journalMessages(messages: readonly BufferedMessageRecord[]): Promise<void>;
  forgetMessages(messageIds: readonly string[]): Promise<void>;
  /** Every journaled message, in the order they were acknowledged. */
  journaledMessages(): Promise<BufferedMessageRecord[]>;
  /** A restored message got a new buffer id. */
  rekeyMessage(oldId: string, newId: string): Promise<void>;
}

/** One acknowledged, not yet archived, buffer message. */
export interface BufferedMessageRecord {
  readonly id: string;
  readonly sessionId: string;
  readonly role: string;
  readonly content: string;
  readonly createdAt: number;
}

/** Process-memory reference implementation (lost on restart). */
export class InMemoryMemoryRecordStore implements MemoryRecordStore {
  readonly #records = new Map<string, MemoryRecord>();
  readonly #sessions = new Set<string>();
  readonly #tasks = new Map<string, OpenVikingTaskRecord>();

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

  async saveTask(task: OpenVikingTaskRecord): Promise<void> {
    this.#tasks.set(task.task_id, structuredClone(task));
  }

  async getTask(taskId: string): Promise<OpenVikingTaskRecord | undefined> {
    const task = this.#tasks.get(taskId);
    return task && structuredClone(task);
  }

  async listTasks(): Promise<OpenVikingTaskRecord[]> {
    return [...this.#tasks.values()].map((task) => structuredClone(task));
  }

  // Nothing outlives the process here, so there is nothing to restore: the journal is not kept.
  async journalMessages(): Promise<void> {}
  async forgetMessages(): Promise<void> {}
  async journaledMessages(): Promise<BufferedMessageRecord[]> {
    return [];
  }
  async rekeyMessage(): Promise<void> {}
}
