import type { HostDescription } from "./engram-host.js";

export interface HostSummaryProps {
  /** Platform adapters that will take messages (`http`, `telegram`, ...). */
  readonly adapters?: readonly string[];
  /** The model line, when the caller describes the model better (e.g. how to switch from the offline one). */
  readonly model?: string;
}

/**
 * What a start banner (or `--check-config`) prints about a host, one line per item: the model, each
 * memory provider with its plugin, where it was configured, its availability and tools, the
 * platform adapters, and the configuration file read.
 */
export function formatHostSummary(description: HostDescription, props: HostSummaryProps = {}): string[] {
  const lines = [`  model:     ${props.model ?? description.model}`];
  const providers = description.memory.flatMap((plugin) =>
    plugin.providers.map(
      (provider) =>
        `${provider.name} (${plugin.plugin} ${plugin.version}, ${plugin.path}): ${
          provider.available ? "available" : "UNAVAILABLE (see its configuration)"
        }${provider.tools.length > 0 ? `; tools ${provider.tools.join(", ")}` : ""}`,
    ),
  );
  if (providers.length === 0) lines.push("  memory:    none (no long-term memory)");
  for (const [index, line] of providers.entries()) {
    lines.push(`  ${index === 0 ? "memory:   " : "          "} ${line}`);
  }
  if (props.adapters) lines.push(`  adapters:  ${props.adapters.join(", ") || "none"}`);
  lines.push(`  config:    ${description.configFile ?? "defaults (no engram.config.json)"}`);
  return lines;
}
