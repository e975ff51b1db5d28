import {
  isMemoryInventory,
  type MemoryProvider,
  NotFoundError,
  type ProviderInitContext,
  type RememberedFact,
} from "@engram/core";
import { parseInput } from "@engram/sessions/http";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { idField, keySegmentField, labelField } from "./request-schemas.js";

/** A host's memory for one scope, opened for browsing (`EngramHost.openSession` gives one). */
export interface OpenedMemory {
  readonly providers: readonly MemoryProvider[];
  readonly context: ProviderInitContext;
  dispose(): Promise<void>;
}

export interface MemoryRoutesOptions {
  /**
   * Opens the providers of the caller's memory scope (the web app's owner). Absent: the routes answer
   * with no providers, so the UI says there is nothing it can list.
   */
  readonly openMemory?: (() => OpenedMemory) | undefined;
}

export const memoryListQuery = z.object({
  q: labelField(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
export const memoryFactParams = z.object({ provider: keySegmentField, id: idField });
export const memoryPatchBody = z.object({ content: labelField(2000).min(1) }).strict();

export interface ProviderInventoryStatus {
  readonly name: string;
  readonly canList: boolean;
  readonly canDelete: boolean;
  readonly canEdit: boolean;
  /** Set when the provider could not be read this time (its other results still count). */
  readonly error?: string;
}

/**
 * Runs `work` over the scope's providers, initialised as a session would initialise them, and always
 * shuts them down and releases the scope afterwards. One provider that fails to start is left out
 * (reported by name); it never blocks the others.
 */
async function withMemory<T>(
  open: () => OpenedMemory,
  work: (providers: MemoryProvider[], failed: Map<string, string>) => Promise<T>,
): Promise<T> {
  const memory = open();
  const ready: MemoryProvider[] = [];
  const failed = new Map<string, string>();
  try {
    await Promise.all(
      memory.providers.map(async (provider) => {
        try {
          await provider.initialize(memory.context);
          ready.push(provider);
        } catch (error) {
          failed.set(provider.name, error instanceof Error ? error.message : String(error));
        }
      }),
    );
    return await work(ready, failed);
  } finally {
    await Promise.allSettled(ready.map(async (provider) => provider.shutdown()));
    await memory.dispose();
  }
}

/**
 * What Engram remembers, for the person using the web app: `GET /api/memory?q=&limit=` lists the facts
 * of every provider that can list them (`MemoryInventory`), `PATCH /api/memory/:provider/:id` corrects
 * one's text (`{ content }`, where the provider can), `DELETE /api/memory/:provider/:id` forgets one. Registered inside the protected `/api` scope: the same login and CSRF rules as every route, and
 * only the web owner's memory scope is ever opened.
 */
export async function memoryRoutes(scope: FastifyInstance, options: MemoryRoutesOptions): Promise<void> {
  scope.get("/memory", async (request) => {
    const { q, limit } = parseInput(memoryListQuery, request.query, "query");
    if (!options.openMemory) return { facts: [], providers: [] };
    return withMemory(options.openMemory, async (providers, failed) => {
      const statuses: ProviderInventoryStatus[] = [...failed].map(([name, error]) => ({
        name,
        canList: false,
        canDelete: false,
        canEdit: false,
        error,
      }));
      const facts: (RememberedFact & { provider: string })[] = [];
      for (const provider of providers) {
        if (!isMemoryInventory(provider)) {
          statuses.push({ name: provider.name, canList: false, canDelete: false, canEdit: false });
          continue;
        }
        const canEdit = typeof provider.updateMemory === "function";
        try {
          const listed = await provider.listMemories({
            ...(q ? { query: q } : {}),
            limit: limit ?? 200,
          });
          for (const fact of listed) facts.push({ ...fact, provider: provider.name });
          statuses.push({ name: provider.name, canList: true, canDelete: true, canEdit });
        } catch (error) {
          statuses.push({
            name: provider.name,
            canList: true,
            canDelete: true,
            canEdit,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      return { facts, providers: statuses };
    });
  });

  scope.patch("/memory/:provider/:id", async (request) => {
    const { provider: name, id } = parseInput(memoryFactParams, request.params, "params");
    const { content } = parseInput(memoryPatchBody, request.body, "body");
    if (!options.openMemory) throw new NotFoundError("Memory provider", name);
    const fact = await withMemory(options.openMemory, async (providers) => {
      const provider = providers.find((p) => p.name === name);
      if (!provider || !isMemoryInventory(provider) || !provider.updateMemory)
        throw new NotFoundError("Memory provider", name);
      return provider.updateMemory(id, content);
    });
    if (!fact) throw new NotFoundError("Fact", id);
    return { fact: { ...fact, provider: name } };
  });

  scope.delete("/memory/:provider/:id", async (request, reply) => {
    const { provider: name, id } = parseInput(memoryFactParams, request.params, "params");
    if (!options.openMemory) throw new NotFoundError("Memory provider", name);
    const removed = await withMemory(options.openMemory, async (providers) => {
      const provider = providers.find((p) => p.name === name);
      if (!provider || !isMemoryInventory(provider)) throw new NotFoundError("Memory provider", name);
      return provider.deleteMemory(id);
    });
    if (!removed) throw new NotFoundError("Fact", id);
    return reply.status(204).send();
  });
}
