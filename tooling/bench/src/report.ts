import { machineInfo } from "./machine.js";

let machinePrinted = false;

/**
 * Prints one machine-readable result line (`BENCH {json}`) and a short human line. The machine line is
 * printed once per process so every result file says where it was measured.
 */
export function report(result: Record<string, unknown> & { bench: string }): void {
  if (!machinePrinted) {
    machinePrinted = true;
    console.log(`BENCH ${JSON.stringify({ bench: "machine", ...machineInfo() })}`);
  }
  console.log(`BENCH ${JSON.stringify(result)}`);
}

export function rssMiB(): number {
  return Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;
}
