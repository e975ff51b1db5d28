import { describe, expect, it } from "vitest";
import { KeyedSerialQueue } from "./keyed-serial-queue.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const randomDelay = () => new Promise<void>((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));

describe("KeyedSerialQueue", () => {
  it("runs tasks of one key one at a time in arrival order, across many random interleavings", async () => {
    for (let round = 0; round < 20; round++) {
      const queue = new KeyedSerialQueue();
      const running = new Map<string, number>();
      let overlap = false;
      const order: Record<string, number[]> = { a: [], b: [], c: [] };
      const tasks: Promise<number>[] = [];
      for (let i = 0; i < 30; i++) {
        const key = ["a", "b", "c"][i % 3]!;
        tasks.push(
          queue.run(key, async () => {
            running.set(key, (running.get(key) ?? 0) + 1);
            if (running.get(key)! > 1) overlap = true;
            await randomDelay();
            order[key]!.push(i);
            running.set(key, running.get(key)! - 1);
            return i;
          }),
        );
        if (Math.random() < 0.3) await tick();
      }
      expect(await Promise.all(tasks)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(overlap).toBe(false);
      for (const key of ["a", "b", "c"]) {
        const ids = order[key]!;
        expect(ids).toEqual([...ids].sort((x, y) => x - y));
        expect(ids).toHaveLength(10);
      }
      expect(queue.depth).toBe(0);
      expect(queue.activeKeys).toBe(0);
    }
  });

  it("runs different keys concurrently", async () => {
    const queue = new KeyedSerialQueue();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = queue.run("a", () => gate.then(() => "a"));
    // "b" must finish while "a" is still blocked.
    expect(await queue.run("b", () => "b")).toBe("b");
    expect(queue.depthOf("a")).toBe(1);
    release();
    expect(await first).toBe("a");
  });

  it("keeps going after a failed task and reports each task's own outcome", async () => {
    const queue = new KeyedSerialQueue();
    const failing = queue.run("a", async () => {
      throw new Error("boom");
    });
    const next = queue.run("a", async () => "after");
    await expect(failing).rejects.toThrow("boom");
    expect(await next).toBe("after");
    expect(queue.depth).toBe(0);
  });
});
