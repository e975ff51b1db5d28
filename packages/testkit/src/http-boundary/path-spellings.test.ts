import { describe, expect, it } from "vitest";
import { fillRouteParams, pathSpellings } from "./path-spellings.js";

describe("pathSpellings", () => {
  it("starts with the path itself and lists each other spelling once", () => {
    const spellings = pathSpellings("/api/session/abc");
    expect(spellings[0]).toEqual({ name: "as registered", path: "/api/session/abc" });
    expect(new Set(spellings.map((s) => s.path)).size).toBe(spellings.length);
    expect(Object.fromEntries(spellings.map((s) => [s.name, s.path]))).toMatchObject({
      "first letter %-encoded": "/%61pi/session/abc",
      "first segment %-encoded": "/%61%70%69/session/abc",
      "every letter %-encoded (upper-case hex)": "/%61%70%69/%73%65%73%73%69%6F%6E/%61%62%63",
      "doubled leading slash": "//api/session/abc",
      "dot segment": "/./api/session/abc",
      "trailing slash": "/api/session/abc/",
      "upper case": "/API/SESSION/ABC",
      "inner backslashes": "/api\\session\\abc",
    });
  });

  it("fills route parameters by name", () => {
    expect(fillRouteParams("/api/session/:id/undo", (name) => `<${name}>`)).toBe("/api/session/<id>/undo");
  });
});
