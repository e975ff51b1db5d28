import {
  MEMORY_PROVIDER_API_VERSION,
  type MemoryProvider,
  type MemoryProviderCapabilities,
  NO_CAPABILITIES,
} from "@engram/core";
import { fail } from "../check-result.js";
import { runCheck } from "../provider-harness.js";
import type { MemoryProviderTestInitializer } from "../provider-test-initializer.js";

const CAPABILITY_KEYS = Object.keys(NO_CAPABILITIES) as (keyof MemoryProviderCapabilities)[];

/**
 * `name` is a non-empty string, `apiVersion` is this core's, and `capabilities` is a record of booleans
 * that matches the initializer's when the initializer declares them too.
 */
export function declaresNameVersionAndCapabilities<P extends MemoryProvider>(
  init: MemoryProviderTestInitializer<P>,
) {
  return runCheck(init, async ({ provider }) => {
    if (typeof provider.name !== "string" || provider.name.trim() === "") {
      fail(`name must be a non-empty string, got ${JSON.stringify(provider.name)}`);
    }
    if (provider.apiVersion !== MEMORY_PROVIDER_API_VERSION) {
      fail(`apiVersion is ${provider.apiVersion}, this core speaks ${MEMORY_PROVIDER_API_VERSION}`);
    }
    const declared = provider.capabilities as Partial<MemoryProviderCapabilities> | undefined;
    if (typeof declared !== "object" || declared === null) fail("capabilities must be an object");
    const notBoolean = CAPABILITY_KEYS.filter(
      (key) => declared[key] !== undefined && typeof declared[key] !== "boolean",
    );
    if (notBoolean.length > 0) fail(`capabilities must be booleans (${notBoolean.join(", ")})`);
    const expected = init.capabilities;
    if (expected === undefined) return;
    const mismatches = CAPABILITY_KEYS.filter(
      (key) => (declared[key] ?? false) !== (expected[key] ?? false),
    ).map((key) => `${key}: provider ${declared[key] ?? false}, initializer ${expected[key] ?? false}`);
    if (mismatches.length > 0) {
      fail(`capabilities differ from the initializer's (${mismatches.join("; ")})`);
    }
  });
}
