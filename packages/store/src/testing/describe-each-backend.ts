import type { Kysely } from "kysely";
import { afterAll, beforeAll, beforeEach, describe } from "vitest";
import type { DB } from "../db/schema/index.js";
import {
  type CreateTestDatabaseProps,
  createTestDatabase,
  type TestDatabase,
} from "./create-test-database.js";
import { type TestBackend, testBackends } from "./test-backends.js";
import { truncateAll } from "./truncate-all.js";

export interface DescribeEachBackendProps<T = DB> extends CreateTestDatabaseProps<T> {
  /** Empty every table before each test (default true). */
  readonly truncateBeforeEach?: boolean;
  /** Backends to run on (defaults to {@link testBackends}). */
  readonly backends?: readonly TestBackend[];
}

/**
 * Handles a suite body receives; call them inside hooks and tests, not while registering. The context
 * is itself callable as a getter of the database (`(getDb) => { ... getDb() ... }`).
 */
export interface BackendContext<T = DB> {
  (): Kysely<T>;
  readonly backend: TestBackend;
  /** The database of this suite (created in `beforeAll`). */
  db(): Kysely<T>;
  database(): TestDatabase<T>;
}

/**
 * Registers one `describe(`${name} [backend]`)` per backend. Each opens its own database in
 * `beforeAll` (migrated, isolated: see {@link createTestDatabase}), empties it before each test and
 * closes it in `afterAll`.
 */
export function describeEachBackend<T = DB>(
  name: string,
  body: (context: BackendContext<T>) => void,
  props: DescribeEachBackendProps<T> = {},
): void {
  for (const backend of props.backends ?? testBackends()) {
    describe(`${name} [${backend.name}]`, () => {
      let database: TestDatabase<T> | undefined;
      const current = (): TestDatabase<T> => {
        if (!database) throw new Error(`${name} [${backend.name}]: the database is not open yet`);
        return database;
      };
      beforeAll(async () => {
        database = await createTestDatabase<T>(backend, props);
      });
      afterAll(async () => {
        await database?.close();
        database = undefined;
      });
      if (props.truncateBeforeEach ?? true) {
        beforeEach(async () => {
          await truncateAll(current().db);
        });
      }
      const getDb = () => current().db;
      body(Object.assign(getDb, { backend, db: getDb, database: current }));
    });
  }
}
