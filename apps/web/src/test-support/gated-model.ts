import { type ChatModel, OfflineModel } from "@engram/agent";

/** The offline model, held at the start of each call until the test opens the gate. */
export class GatedModel implements ChatModel {
  readonly id = "gated-offline";
  readonly #inner = new OfflineModel();
  #open: Promise<void> = Promise.resolve();
  #release: () => void = () => undefined;

  close(): void {
    this.#open = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  open(): void {
    this.#release();
  }

  async complete(...args: Parameters<ChatModel["complete"]>): ReturnType<ChatModel["complete"]> {
    await this.#open;
    return this.#inner.complete(...args);
  }

  async *stream(...args: Parameters<ChatModel["stream"]>): ReturnType<ChatModel["stream"]> {
    await this.#open;
    yield* this.#inner.stream(...args);
  }
}
