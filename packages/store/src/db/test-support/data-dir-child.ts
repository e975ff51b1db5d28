// Child process for the data-folder ownership tests. Modes:
// - `lock <dir>`: reads commands from stdin, one per line: `lock` tries lockDataDir and prints
//   {"locked":true} or {"locked":false,"code":...}; `release` releases what it holds and prints
//   {"released":true}. Releases and exits when stdin closes.
// - `database <dir> <value>`: opens the folder with createDatabase, appends `value` to table `kept`,
//   prints {"ready":true,"values":[...]} and keeps the database open until its stdin closes.
import { createInterface } from "node:readline";
import { type DataDirLock, lockDataDir } from "../data-dir-lock.js";

const [mode, dir, value] = process.argv.slice(2);
if (!dir || (mode !== "lock" && mode !== "database")) {
  throw new Error("usage: data-dir-child lock <dir> | database <dir> <value>");
}
const say = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

if (mode === "lock") {
  let held: DataDirLock | undefined;
  for await (const command of createInterface({ input: process.stdin })) {
    if (command === "lock") {
      try {
        held = await lockDataDir(dir);
        say({ locked: true });
      } catch (error) {
        say({ locked: false, code: (error as { code?: string }).code });
      }
    } else if (command === "release") {
      await held?.release();
      held = undefined;
      say({ released: true });
    }
  }
  await held?.release();
} else {
  // Imported here: PGlite is slow to load, and the lock mode starts several children at once.
  const { sql } = await import("kysely");
  const { createDatabase } = await import("../database.js");
  const database = await createDatabase({ dataDir: dir });
  await sql`create table if not exists kept (v text)`.execute(database.db);
  await sql`insert into kept values (${value ?? ""})`.execute(database.db);
  const { rows } = await sql<{ v: string }>`select v from kept order by v`.execute(database.db);
  say({ ready: true, values: rows.map((row) => row.v) });
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once("end", resolve));
  await database.close();
}
