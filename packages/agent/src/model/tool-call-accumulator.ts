import type { ToolCall } from "@engram/core";

/**
 * Assembles streamed tool-call deltas into complete calls. Servers send a call's id and name once and
 * its arguments in pieces, keyed by `index` (not by id: later pieces carry no id), and may interleave
 * calls; so pieces are accumulated per index and returned in index order.
 */
export class ToolCallAccumulator {
  readonly #calls = new Map<number, { id: string; name: string; arguments: string }>();

  add(
    index: number,
    piece: { id?: string | undefined; name?: string | undefined; argumentsDelta?: string | undefined },
  ): void {
    let call = this.#calls.get(index);
    if (call === undefined) {
      call = { id: "", name: "", arguments: "" };
      this.#calls.set(index, call);
    }
    if (piece.id) call.id = piece.id;
    // Some servers repeat the name on every delta, others send it once: only a new value replaces it.
    if (piece.name) call.name = piece.name;
    if (piece.argumentsDelta) call.arguments += piece.argumentsDelta;
  }

  /** The calls so far, ordered by index; calls without an id get a stable synthetic one. */
  result(): ToolCall[] {
    return [...this.#calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({
        id: call.id || `call_${index}`,
        name: call.name,
        arguments: call.arguments,
      }));
  }
}
