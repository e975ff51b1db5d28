// Writes engram.config.schema.json (published with the package) from the zod schema of the file.
// `pnpm --filter @engram/sessions schema`; a unit test fails while the committed file is stale.
import { writeFileSync } from "node:fs";
import { engramConfigJsonSchema } from "../src/config/engram-config.js";

const target = new URL("../engram.config.schema.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(engramConfigJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
