import { performance } from "node:perf_hooks";
import { createDatabase } from "@engram/store";
import { sql } from "kysely";
import { migrateHolographic } from "./src/db/migrations/index.js";

const d = await createDatabase<any>({ memory: true });
await migrateHolographic(d.db);
const N = 500;
const vs = Array.from({ length: N }, (_, k) =>
  Buffer.from(new Uint8Array(2048).map((_, i) => (i * k) & 255)),
);
let t = performance.now();
await d.db
  .insertInto("holographic_facts")
  .values(
    vs.map((v, i) => ({ content: `A ${i}`, hrr_vector: sql`decode(${v.toString("base64")}, 'base64')` })),
  )
  .execute();
console.log("base64 per row ms", (performance.now() - t) / N);
t = performance.now();
const big = Buffer.concat(vs).toString("hex");
await sql`insert into holographic_facts (content, hrr_vector) select c, decode(substr(${big}, (o * 4096)::int + 1, 4096), 'hex') from unnest(${vs.map((_, i) => `B ${i}`)}::text[]) with ordinality as u(c, o0), lateral (select o0 - 1 as o) x`.execute(
  d.db,
);
console.log("one hex param per row ms", (performance.now() - t) / N);
t = performance.now();
await sql`insert into holographic_facts (content, hrr_vector) select c, decode(v, 'base64') from unnest(${vs.map((_, i) => `C ${i}`)}::text[], ${vs.map((v) => v.toString("base64"))}::text[]) as u(c, v)`.execute(
  d.db,
);
console.log("unnest base64 arrays per row ms", (performance.now() - t) / N);
t = performance.now();
await sql`insert into holographic_facts (content) select c from unnest(${vs.map((_, i) => `D ${i}`)}::text[]) as u(c)`.execute(
  d.db,
);
console.log("unnest no vector per row ms", (performance.now() - t) / N);
await d.close();
