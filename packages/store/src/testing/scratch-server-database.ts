import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { createDatabase } from "../db/database.js";

export interface ScratchServerDatabase {
  /** `serverUrl` pointing at the new database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, ending any session still connected to it. */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database on the Postgres server of `serverUrl`, for tests that start our executables
 * (which open `DATABASE_URL` themselves, in the `public` schema) and must not see each other's rows.
 */
export async function createScratchServerDatabase(
  serverUrl: string,
  prefix = "e2e",
): Promise<ScratchServerDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const onServer = async (statement: string) => {
    const admin = await createDatabase({ url: serverUrl, maxConnections: 1 });
    try {
      await sql.raw(statement).execute(admin.db);
    } finally {
      await admin.close();
    }
  };
  // `name` is a prefix of our own and hex digits: no quoting needed.
  await onServer(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => onServer(`drop database if exists ${name} with (force)`) };
}
