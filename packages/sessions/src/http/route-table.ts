import type { FastifyInstance } from "fastify";

/** One route as Fastify registered it (the auto-added `HEAD` of a `GET` is its own entry). */
export interface RouteEntry {
  readonly method: string;
  /** The route's pattern, prefix included (`/v1/messages`, `/api/session/:id`). */
  readonly url: string;
}

const tables = new WeakMap<FastifyInstance, RouteEntry[]>();

/**
 * Starts recording every route registered on `app` from now on, its plugins' and adapters' included
 * (an application-wide `onRoute` hook). Called first thing by the server builder, so the auth and fuzz
 * suites walk the real route table and a route added later cannot escape them.
 */
export function recordRoutes(app: FastifyInstance): void {
  const table: RouteEntry[] = [];
  tables.set(app, table);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) table.push({ method, url: route.url ?? route.path });
  });
}

/** The routes recorded on `app` (complete once `app.ready()` resolved); empty when none were recorded. */
export function routeTable(app: FastifyInstance): readonly RouteEntry[] {
  return [...(tables.get(app) ?? [])];
}
