import os from "node:os";

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemGiB: number;
  node: string;
  platform: string;
}

/** What the figures were measured on: TARGETS.md figures are only comparable on like machines. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}
