/**
 * Whether the server answered the last request: a tiny external store read with `useSyncExternalStore`,
 * so the banner appears on the first "no answer" anywhere in the app and goes on the next answer.
 */
type Listener = () => void;

class ConnectionState {
  #down = false;
  readonly #listeners = new Set<Listener>();

  readonly subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
  readonly isDown = (): boolean => this.#down;

  markDown(): void {
    this.#set(true);
  }
  markUp(): void {
    this.#set(false);
  }
  #set(down: boolean): void {
    if (down === this.#down) return;
    this.#down = down;
    for (const listener of this.#listeners) listener();
  }
}

export const connection = new ConnectionState();
