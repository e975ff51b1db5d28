import { describe, expect, it } from "vitest";
import { QueryBatcher } from "./query-batcher.js";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function scripted(maxInFlight: number, maxBatch = 100) {
  const singles: Array<{ input: number; done: ReturnType<typeof deferred<number>> }> = [];
  const batches: Array<{ inputs: number[]; done: ReturnType<typeof deferred<number[]>> }> = [];
  const batcher = new QueryBatcher<number, number>({
    maxInFlight,
    maxBatch,
    single: (input) => {
      const done = deferred<number>();
      singles.push({ input, done });
      return done.promise;
    },
    batch: (inputs) => {
      const done = deferred<number[]>();
      batches.push({ inputs, done });
      return done.promise;
    },
  });
  return { batcher, singles, batches };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("QueryBatcher", () => {
  it("runs a lone call at once, on its own", async () => {
    const { batcher, singles, batches } = scripted(1);
    const answer = batcher.run(7);
    expect(singles.map((s) => s.input)).toEqual([7]);
    singles[0]!.done.resolve(70);
    expect(await answer).toBe(70);
    expect(batches).toEqual([]);
  });

  it("sends calls that arrive while a query runs as one batch, answering each in order", async () => {
    const { batcher, singles, batches } = scripted(1);
    const first = batcher.run(1);
    const rest = [2, 3, 4].map((n) => batcher.run(n));
    expect(batches).toEqual([]);
    singles[0]!.done.resolve(10);
    expect(await first).toBe(10);
    await tick();
    expect(batches.map((b) => b.inputs)).toEqual([[2, 3, 4]]);
    batches[0]!.done.resolve([20, 30, 40]);
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it("respects maxInFlight and maxBatch", async () => {
    const { batcher, singles, batches } = scripted(2, 2);
    const all = [1, 2, 3, 4, 5, 6, 7].map((n) => batcher.run(n));
    expect(singles.map((s) => s.input)).toEqual([1, 2]);
    singles[0]!.done.resolve(1);
    await tick();
    expect(batches.map((b) => b.inputs)).toEqual([[3, 4]]);
    singles[1]!.done.resolve(2);
    await tick();
    expect(batches.map((b) => b.inputs)).toEqual([
      [3, 4],
      [5, 6],
    ]);
    batches[0]!.done.resolve([3, 4]);
    await tick();
    // A lone leftover goes out through the single-call query.
    expect(singles.map((s) => s.input)).toEqual([1, 2, 7]);
    batches[1]!.done.resolve([5, 6]);
    singles[2]!.done.resolve(7);
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("fails every call of a failed batch, and keeps serving later calls", async () => {
    const { batcher, singles, batches } = scripted(1);
    const first = batcher.run(1);
    const failing = [2, 3].map((n) => batcher.run(n).catch((error: Error) => error.message));
    singles[0]!.done.resolve(1);
    await first;
    await tick();
    batches[0]!.done.reject(new Error("boom"));
    expect(await Promise.all(failing)).toEqual(["boom", "boom"]);
    const later = batcher.run(9);
    expect(singles.map((s) => s.input)).toEqual([1, 9]);
    singles[1]!.done.resolve(90);
    expect(await later).toBe(90);
  });
});
