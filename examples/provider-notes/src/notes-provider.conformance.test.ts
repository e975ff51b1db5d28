import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProbedWrite } from "@engram/testkit";
import { describeMemoryProvider } from "@engram/testkit/vitest";
import { notesConfigSchema } from "./notes-config.js";
import { NotesProvider } from "./notes-provider.js";

let root = "";
let made = 0;
const dirOf = new WeakMap<NotesProvider, string>();

/** What the provider wrote, read from its folder on disk rather than from the provider. */
async function notesIn(dir: string): Promise<ProbedWrite[]> {
  const files = await readdir(dir).catch(() => []);
  const writes: ProbedWrite[] = [];
  for (const file of files) {
    for (const line of (await readFile(join(dir, file), "utf8")).split("\n")) {
      if (line === "") continue;
      const note = JSON.parse(line) as { text: string; sessionId?: string };
      writes.push({ sessionId: note.sessionId, text: note.text });
    }
  }
  return writes;
}

// Every provider gets a folder of its own, so one check's notes never show in another's probe, except
// the ones the recall checks build for a session context: those share one folder, as every session of
// an installation does (the provider keeps each user's notes in a file of their own).
describeMemoryProvider<NotesProvider>({
  name: "NotesProvider",
  beforeAll: async () => {
    root = await mkdtemp(join(tmpdir(), "notes-conformance-"));
  },
  afterAll: () => rm(root, { recursive: true, force: true }),
  createProvider: (ctx) => {
    made += 1;
    const dir = ctx ? join(root, "installation") : join(root, `provider-${made}`);
    const provider = new NotesProvider({ config: notesConfigSchema.parse({ dir }) });
    dirOf.set(provider, dir);
    return provider;
  },
  probe: (provider) => notesIn(dirOf.get(provider) ?? "").then((writes) => ({ writes })),
  sampleToolCalls: [{ name: "notes_search", args: { query: "tea blend", limit: 3 } }],
  invalidToolCalls: [
    { name: "notes_search", args: { query: "   " } },
    { name: "notes_search", args: { query: "tea", limit: 0 } },
    { name: "notes_search", args: { query: "tea", session: "x" } },
  ],
});
