import type { ChatMessage } from "@engram/core";

/**
 * A cheap token estimate: characters / 4, rounded up, over content and tool-call arguments. Good enough
 * to decide when to compress; never used for billing.
 */
export function estimateTokens(messages: readonly ChatMessage[]): number {
  let chars = 0;
  for (const m of messages) {
    chars += m.content.length;
    for (const call of m.toolCalls ?? []) chars += call.name.length + call.arguments.length;
  }
  return Math.ceil(chars / 4);
}
