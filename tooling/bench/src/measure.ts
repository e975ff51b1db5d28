import { performance } from "node:perf_hooks";
import { report } from "./report.js";

export interface ThroughputProps {
  name: string;
  /** Operations one call of `run` performs. */
  opsPerRun: number;
  /** Repetitions; the median is reported. */
  runs?: number;
  /** Untimed repetitions first, to let the JIT settle. */
  warmupRuns?: number;
  run: () => unknown | Promise<unknown>;
  /** Extra fields for the report line (sizes, backend, target). */
  extra?: Record<string, unknown>;
}

export interface ThroughputResult {
  bench: string;
  opsPerSec: number;
  minOpsPerSec: number;
  maxOpsPerSec: number;
  runs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `run` repeatedly and reports the median ops/s. */
export async function benchThroughput(props: ThroughputProps): Promise<ThroughputResult> {
  const runs = props.runs ?? 7;
  for (let i = 0; i < (props.warmupRuns ?? 1); i++) await props.run();
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await props.run();
    const seconds = (performance.now() - start) / 1000;
    rates.push(props.opsPerRun / seconds);
  }
  const result = {
    bench: props.name,
    opsPerSec: Math.round(median(rates)),
    minOpsPerSec: Math.round(Math.min(...rates)),
    maxOpsPerSec: Math.round(Math.max(...rates)),
    runs,
    ...props.extra,
  };
  report(result);
  return result;
}

export interface LatencyProps {
  name: string;
  samples: number;
  warmup?: number;
  /** One timed operation; `i` is the sample index. */
  sample: (i: number) => unknown | Promise<unknown>;
  /**
   * The sample times itself and returns its duration in ms, so untimed setup can share the call
   * (e.g. writing the messages a timed commit then takes).
   */
  selfTimed?: boolean;
  extra?: Record<string, unknown>;
}

export interface LatencyResult {
  bench: string;
  samples: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function percentile(sortedAsc: number[], p: number): number {
  if (sortedAsc.length === 0) return Number.NaN;
  const index = Math.min(sortedAsc.length - 1, Math.ceil((p / 100) * sortedAsc.length) - 1);
  return sortedAsc[Math.max(0, index)]!;
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** Times `samples` single operations and reports p50/p95/p99 in milliseconds. */
export async function benchLatency(props: LatencyProps): Promise<LatencyResult> {
  for (let i = 0; i < (props.warmup ?? Math.min(50, props.samples)); i++) await props.sample(i);
  const times: number[] = [];
  for (let i = 0; i < props.samples; i++) {
    const start = performance.now();
    const returned = await props.sample(i);
    const elapsed = performance.now() - start;
    if (props.selfTimed && typeof returned !== "number")
      throw new Error(`${props.name}: a selfTimed sample must return ms`);
    times.push(props.selfTimed ? (returned as number) : elapsed);
  }
  times.sort((a, b) => a - b);
  const result = {
    bench: props.name,
    samples: props.samples,
    p50Ms: round3(percentile(times, 50)),
    p95Ms: round3(percentile(times, 95)),
    p99Ms: round3(percentile(times, 99)),
    maxMs: round3(times[times.length - 1] ?? Number.NaN),
    ...props.extra,
  };
  report(result);
  return result;
}
