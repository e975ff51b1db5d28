import { sql } from "kysely";
import type { PhaseVector } from "../hrr/phase-vector.js";

/**
 * Vectors travel as base64 text decoded by the server (`decode(…, 'base64')`): PGlite serialises a
 * `bytea` parameter several times slower than a text one, and for Postgres the difference is small.
 * Codes are little-endian uint16 (the byte order of every platform Node ships on).
 */
export function vectorBase64(vector: PhaseVector): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64");
}

export function vectorSql(vector: PhaseVector) {
  return sql<Uint8Array>`decode(${vectorBase64(vector)}, 'base64')`;
}

/** Reads a stored vector; `undefined` when missing or of another dimension (the caller re-encodes). */
export function readVector(base64: string | null, dim: number): PhaseVector | undefined {
  if (!base64) return undefined;
  const bytes = Buffer.from(base64, "base64");
  if (bytes.byteLength !== dim * 2) return undefined;
  const vector = new Uint16Array(dim);
  new Uint8Array(vector.buffer).set(bytes);
  return vector;
}
