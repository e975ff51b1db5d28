import { resolve } from "node:path";
import { z } from "zod";

/**
 * Configuration of the notes provider, as written under `config` in `engram.config.json`. A zod
 * schema is a `ConfigSchema` as is: the host calls `parse` and reports what it throws.
 */
export const notesConfigSchema = z
  .object({
    /**
     * Folder of the note files (created when missing). A relative path is resolved against the
     * process's working directory: a plugin is not told where the config file that named it lives.
     */
    dir: z
      .string()
      .trim()
      .min(1)
      .transform((dir) => resolve(dir)),
    /** Most notes `prefetch` recalls for one message. */
    recallLimit: z.number().int().min(1).max(50).default(5),
  })
  .strict();

export type NotesConfig = z.infer<typeof notesConfigSchema>;
