import { describe, expect, it, vi } from "vitest";
import { TestDatabaseUnreachableError, testBackends } from "./test-backends.js";

const unreachable = "postgres://postgres:secret@127.0.0.1:1/test";

describe("testBackends", () => {
  it("runs only PGlite when DATABASE_URL is not set", () => {
    expect(testBackends({ env: {} })).toEqual([{ name: "pglite" }]);
  });

  it("adds Postgres when DATABASE_URL is set (probe disabled)", () => {
    expect(testBackends({ env: { DATABASE_URL: "postgres://x@db:5432/t" }, probe: false })).toEqual([
      { name: "pglite" },
      { name: "postgres", url: "postgres://x@db:5432/t" },
    ]);
  });

  it("fails in CI when DATABASE_URL is set but unreachable, without leaking the password", () => {
    const error = (() => {
      try {
        testBackends({ env: { DATABASE_URL: unreachable, CI: "true" } });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TestDatabaseUnreachableError);
    expect(String((error as Error).message)).not.toContain("secret");
  });

  it("drops the Postgres lane with a warning outside CI when the server is unreachable", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      expect(testBackends({ env: { DATABASE_URL: unreachable } })).toEqual([{ name: "pglite" }]);
      expect(warn).toHaveBeenCalledOnce();
    } finally {
      warn.mockRestore();
    }
  });
});
