import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** One line of a note file. */
export interface Note {
  readonly text: string;
  /** The session the note was taken in. */
  readonly sessionId: string | undefined;
  /** When it was written, epoch ms. */
  readonly at: number;
}

// Words too common to say two texts are about the same thing.
const STOPWORDS = new Set(
  "the and for are but not you your with that this was were have has had what which who whom how when where why does did can could would should will about from into than then them they their there these those its it's our out all any some just very".split(
    " ",
  ),
);

/** Lower-case words of three letters or more, minus stopwords: what keyword overlap compares. */
export function keywords(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];
  return new Set(words.filter((w) => w.length >= 3 && !STOPWORDS.has(w)));
}

/** Notes sharing at least one keyword with `query`, most shared first (newest first on a tie). */
export function rankNotes(notes: readonly Note[], query: string, limit: number): Note[] {
  const wanted = keywords(query);
  return notes
    .map((note) => ({ note, score: [...keywords(note.text)].filter((w) => wanted.has(w)).length }))
    .filter((scored) => scored.score > 0)
    .sort((a, b) => b.score - a.score || b.note.at - a.note.at)
    .slice(0, limit)
    .map((scored) => scored.note);
}

/**
 * The notes of one memory scope: `<dir>/<sha256(scope)>.jsonl`, one JSON object per line. Hashing
 * makes any scope (ids with `/`, `..`, ...) a safe file name. Each append is one `O_APPEND` write of
 * whole lines, so on a local disk two writers interleave lines, not bytes.
 */
export class NoteFile {
  readonly path: string;
  readonly #dir: string;

  constructor(dir: string, scope: string) {
    this.#dir = dir;
    this.path = join(dir, `${createHash("sha256").update(scope).digest("hex").slice(0, 32)}.jsonl`);
  }

  /** Every readable note; a line torn by a crash mid-append is skipped, not fatal. */
  async read(): Promise<Note[]> {
    let content: string;
    try {
      content = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const notes: Note[] = [];
    for (const line of content.split("\n")) {
      if (line.trim() === "") continue;
      try {
        const value = JSON.parse(line) as Partial<Note>;
        if (typeof value.text === "string" && typeof value.at === "number") {
          notes.push({ text: value.text, sessionId: value.sessionId, at: value.at });
        }
      } catch {
        // A torn last line: the rest of the file is still good.
      }
    }
    return notes;
  }

  async append(notes: readonly Note[]): Promise<void> {
    if (notes.length === 0) return;
    await mkdir(this.#dir, { recursive: true });
    await appendFile(this.path, notes.map((note) => `${JSON.stringify(note)}\n`).join(""), "utf8");
  }
}
