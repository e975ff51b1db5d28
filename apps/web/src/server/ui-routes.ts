import type { FastifyInstance } from "fastify";

export interface UiRoutesOptions {
  /** The chat model's id (`offline`, `gpt-4o-mini@https://...`). */
  readonly modelId?: string | undefined;
}

/**
 * What the UI shows about the server itself: `GET /api/info` -> `{ model }`, the name put on replies.
 * Registered inside the protected `/api` scope, so it has the same login rule as every other route.
 */
export async function uiRoutes(scope: FastifyInstance, options: UiRoutesOptions): Promise<void> {
  scope.get("/info", async () => ({ model: options.modelId ?? null }));
}
