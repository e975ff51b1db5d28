import { EngramError } from "../errors/engram-error.js";

/**
 * A {@link SessionKeyLock} holder lost the lock while its work ran (the lock's connection dropped),
 * so another holder of the same key may have run at the same time. The work itself finished or
 * failed on its own; its outcome is not trusted.
 */
export class SessionKeyLockLostError extends EngramError {
  constructor(key: string, cause: unknown) {
    super(
      "SESSION_KEY_LOCK_LOST",
      `The lock of session key ${JSON.stringify(key.slice(0, 200))} was lost while its turn ran`,
      { cause, details: { key: key.slice(0, 200) } },
    );
    this.name = "SessionKeyLockLostError";
  }
}
