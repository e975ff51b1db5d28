/**
 * Dependency-injection tokens of core contracts. A symbol token carries no type, so always pass the
 * type: `container.register<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES, { useValue })` and
 * `container.resolveAll<MemoryProviderFactory>(MEMORY_PROVIDER_FACTORIES)`.
 *
 * `Symbol.for` (not `Symbol`) so that two copies of core loaded by mistake still agree on the tokens.
 */

/** Multi-registration of `MemoryProviderFactory`: each plugin registers one or more. */
export const MEMORY_PROVIDER_FACTORIES: unique symbol = Symbol.for("engram.core.MemoryProviderFactories");

/** The `Clock` (`now(): number`, epoch ms) every time-dependent policy reads. */
export const CLOCK: unique symbol = Symbol.for("engram.core.Clock");

/** The structured `Logger` (pino-compatible) core and plugins write to. */
export const LOGGER: unique symbol = Symbol.for("engram.core.Logger");
