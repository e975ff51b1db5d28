import { describe, expect, it } from "vitest";
import { nextThemeChoice, readThemeChoice, resolveTheme } from "./theme.js";

describe("the theme choice", () => {
  it("follows the system preference unless a theme was chosen", () => {
    expect(resolveTheme("system", true)).toBe("dark");
    expect(resolveTheme("system", false)).toBe("light");
    expect(resolveTheme("light", true)).toBe("light");
  });

  it("toggles to the opposite of what shows, then back to the system's", () => {
    expect(nextThemeChoice("system", false)).toBe("dark");
    expect(nextThemeChoice("system", true)).toBe("light");
    expect(nextThemeChoice("dark", false)).toBe("system");
  });

  it("reads only known values from storage", () => {
    expect(readThemeChoice({ getItem: () => "dark" })).toBe("dark");
    expect(readThemeChoice({ getItem: () => "purple" })).toBe("system");
    expect(readThemeChoice({ getItem: () => null })).toBe("system");
  });
});
