/**
 * Light or dark: the person's choice (kept in localStorage) or, by default, the system preference.
 * The choice is applied as `data-theme` on <html>, which the stylesheet's variables follow.
 */
import { useEffect, useState } from "react";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "engram.theme";

export function readThemeChoice(storage: Pick<Storage, "getItem"> = localStorage): ThemeChoice {
  const stored = storage.getItem(KEY);
  return stored === "light" || stored === "dark" ? stored : "system";
}

export function resolveTheme(choice: ThemeChoice, prefersDark: boolean): "light" | "dark" {
  if (choice === "system") return prefersDark ? "dark" : "light";
  return choice;
}

/** The next choice of the toggle: system -> the opposite of what shows -> the other -> system. */
export function nextThemeChoice(choice: ThemeChoice, prefersDark: boolean): ThemeChoice {
  if (choice === "system") return prefersDark ? "light" : "dark";
  return "system";
}

export function useTheme(): { choice: ThemeChoice; theme: "light" | "dark"; toggle: () => void } {
  const media = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
  const [choice, setChoice] = useState<ThemeChoice>(() => readThemeChoice());
  const [prefersDark, setPrefersDark] = useState(() => media?.matches ?? false);
  useEffect(() => {
    if (!media) return;
    const onChange = (event: MediaQueryListEvent) => setPrefersDark(event.matches);
    media.addEventListener("change", onChange);
    return () => media.removeEventListener("change", onChange);
  }, [media]);
  const theme = resolveTheme(choice, prefersDark);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  }, [theme]);
  return {
    choice,
    theme,
    toggle: () => {
      const next = nextThemeChoice(choice, prefersDark);
      if (next === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, next);
      setChoice(next);
    },
  };
}
