const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function stamp(now: number): string {
  const d = new Date(now);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

function hex(length: number): string {
  return globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, length);
}

/** `20260515_100000_a1b2c3d4`: sortable by time (UTC, to the second), unique by the random suffix. */
export function generateArchiveId(now: number): string {
  return `${stamp(now)}_${hex(8)}`;
}

/** `merged_20260515_100000_a1b2c3d4`, the id of an archive produced by merging older ones. */
export function generateMergedArchiveId(now: number): string {
  return `merged_${generateArchiveId(now)}`;
}

export function generateTaskId(): string {
  return `task_${hex(12)}`;
}

export function generateCompactionToken(): string {
  return globalThis.crypto.randomUUID().replaceAll("-", "");
}
