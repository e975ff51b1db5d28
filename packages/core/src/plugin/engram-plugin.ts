import semver from "semver";
import type { DependencyContainer } from "tsyringe";
import { InvalidArgumentError } from "../errors/engram-error.js";

/**
 * Validates a plugin's raw configuration. Structurally a subset of a zod schema, so a zod schema can
 * be passed as is without core depending on zod. `parse` throws on invalid input.
 */
export interface ConfigSchema<T> {
  parse(input: unknown): T;
}

/** What a plugin author writes. */
export interface PluginDefinition<TConfig = unknown> {
  /** Package-like name, e.g. `@engram/provider-holographic`. */
  name: string;
  /** The plugin's own semver version. */
  version: string;
  /** Semver range of `@engram/core` the plugin works with, e.g. `^0.1.0`. */
  engram: string;
  /** Validates the configuration the host passes to `register`. */
  configSchema?: ConfigSchema<TConfig>;
  /**
   * Registers the plugin's services (e.g. memory-provider factories) in the host's container. The only
   * place a plugin may touch a container. Must not resolve services or do I/O.
   */
  register(container: DependencyContainer, config: TConfig): void | Promise<void>;
}

/** A plugin as hosts load it: the definition, frozen and branded by {@link definePlugin}. */
export interface EngramPlugin<TConfig = unknown> extends Readonly<PluginDefinition<TConfig>> {
  readonly kind: "engram-plugin";
}

function requireText(argument: string, value: unknown): void {
  if (typeof value !== "string" || value.trim() === "") {
    throw new InvalidArgumentError(argument, "must be a non-empty string");
  }
}

/**
 * Declares a plugin. Throws `INVALID_ARGUMENT` when the name is empty, `version` is not a semver
 * version, `engram` is not a semver range or `register` is not a function.
 */
export function definePlugin<TConfig = unknown>(
  definition: PluginDefinition<TConfig>,
): EngramPlugin<TConfig> {
  requireText("name", definition.name);
  requireText("version", definition.version);
  requireText("engram", definition.engram);
  if (semver.valid(definition.version) === null) {
    throw new InvalidArgumentError(
      "version",
      `${JSON.stringify(definition.version)} is not a semver version`,
    );
  }
  if (semver.validRange(definition.engram) === null) {
    throw new InvalidArgumentError("engram", `${JSON.stringify(definition.engram)} is not a semver range`);
  }
  if (typeof definition.register !== "function") {
    throw new InvalidArgumentError("register", "must be a function");
  }
  return Object.freeze({ ...definition, kind: "engram-plugin" as const });
}

/** Whether a dynamically imported value is a plugin made by {@link definePlugin}. */
export function isEngramPlugin(value: unknown): value is EngramPlugin {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { kind?: unknown }).kind === "engram-plugin" &&
    typeof (value as { register?: unknown }).register === "function"
  );
}
