/**
 * Dependency-injection tokens of core contracts. A symbol token carries no type, so always pass the
 * type: `container.register<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES, { useValue })` and
 * `container.resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES)`.
 *
 * `Symbol.for` (not `Symbol`) so that two copies of core loaded by mistake still agree on the tokens.
 */

/**
 * Multi-registration of `MemoryProviderFactory`: each plugin registers one or more. Hosts resolve them
 * in a per-session child container, so a factory registered with `useFactory` sees that session's
 * container (and a `Lifecycle.ContainerScoped` registration gets one instance per session).
 */
export const MEMORY_PROVIDER_FACTORIES: unique symbol = Symbol.for("engram.core.MemoryProviderFactories");

/** The `Clock` (`now(): number`, epoch ms) every time-dependent policy reads. */
export const CLOCK: unique symbol = Symbol.for("engram.core.Clock");

/** The structured `Logger` (pino-compatible) core and plugins write to. */
export const LOGGER: unique symbol = Symbol.for("engram.core.Logger");

/**
 * The host's own database, migrated and open for as long as the host runs: a `Kysely` instance on
 * PostgreSQL or PGlite (resolve it as `Kysely<unknown>`; core does not depend on Kysely). A plugin that
 * keeps tables may put them there, behind its own migration table, instead of opening a database of
 * its own; it must never close it. Hosts without a database do not register it, so check with
 * `isRegistered(HOST_DATABASE, true)`.
 */
export const HOST_DATABASE: unique symbol = Symbol.for("engram.core.HostDatabase");

/**
 * Multi-registration of {@link ShutdownHook}s: what a plugin opened lazily (a database, a cache of
 * stores) and must release when the host stops. The host runs them once, after every session's
 * providers shut down, in reverse order of registration; a failing hook does not stop the others.
 */
export const SHUTDOWN_HOOKS: unique symbol = Symbol.for("engram.core.ShutdownHooks");

/** Releases what a plugin holds; see {@link SHUTDOWN_HOOKS}. Must finish quickly and never throw on a second call. */
export type ShutdownHook = () => void | Promise<void>;
