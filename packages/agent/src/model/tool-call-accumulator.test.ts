import { describe, expect, it } from "vitest";
import { ToolCallAccumulator } from "./tool-call-accumulator.js";

describe("ToolCallAccumulator", () => {
  it("assembles interleaved argument pieces by index, not by arrival order", () => {
    const acc = new ToolCallAccumulator();
    acc.add(1, { id: "b", name: "second", argumentsDelta: "" });
    acc.add(0, { id: "a", name: "first", argumentsDelta: '{"q"' });
    acc.add(1, { argumentsDelta: '{"n":' });
    acc.add(0, { argumentsDelta: ':"tea"}' });
    acc.add(1, { argumentsDelta: "2}" });
    expect(acc.result()).toEqual([
      { id: "a", name: "first", arguments: '{"q":"tea"}' },
      { id: "b", name: "second", arguments: '{"n":2}' },
    ]);
  });

  it("gives a call whose server sent no id a stable synthetic one", () => {
    const acc = new ToolCallAccumulator();
    acc.add(0, { name: "search", argumentsDelta: "{}" });
    expect(acc.result()).toEqual([{ id: "call_0", name: "search", arguments: "{}" }]);
  });
});
