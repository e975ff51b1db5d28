/**
 * Start-up against a PostgreSQL server that cannot be used: the error names DATABASE_URL and what to
 * do, instead of a bare "connect ECONNREFUSED 127.0.0.1:5499" or 'database "x" does not exist'.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { testBackends } from "../testing/test-backends.js";
import { openMigratedDatabase } from "./open-migrated-database.js";

const postgres = testBackends().find((backend) => backend.name === "postgres");

/** How opening `url` failed (a test failure when it opened). */
async function failureOf(url: string): Promise<Error> {
  const opened = await openMigratedDatabase({ url }).catch((error: unknown) => error as Error);
  if (!(opened instanceof Error)) {
    await opened.close();
    return expect.unreachable("the database opened");
  }
  return opened;
}

/** A loopback port nothing listens on (taken, then freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("openMigratedDatabase on a server that cannot be used", () => {
  it("names DATABASE_URL and the address when nothing listens there, without the password", async () => {
    const port = await closedPort();
    const failure = await failureOf(`postgres://app:s3cret@127.0.0.1:${port}/engram`);
    expect(failure).toMatchObject({
      code: "DATABASE_UNAVAILABLE",
      reason: "connection_refused",
      details: { variable: "DATABASE_URL" },
    });
    expect(failure.message).toContain("DATABASE_URL=");
    expect(failure.message).toContain(`127.0.0.1:${port}`);
    expect(failure.message).not.toContain("s3cret");
  });

  it.skipIf(!postgres)(
    "names DATABASE_URL and the database when the server has no such database",
    async () => {
      const url = new URL(postgres?.name === "postgres" ? postgres.url : "postgres://x");
      url.pathname = "/engram_no_such_database";
      const failure = await failureOf(url.toString());
      expect(failure).toMatchObject({ code: "DATABASE_UNAVAILABLE", reason: "database_missing" });
      expect(failure.message).toContain('"engram_no_such_database"');
    },
  );
});
