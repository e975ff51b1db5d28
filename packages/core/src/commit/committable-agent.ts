/**
 * Anything whose memory can be committed at a session boundary: typically the agent runtime of
 * one session, whose `commitMemorySession()` ends the providers' session (`onSessionEnd`) and so
 * triggers extraction. It may finish synchronously or return a promise; throwing or rejecting
 * means the commit failed and the work stays uncommitted.
 */
export interface CommittableAgent {
  commitMemorySession(): Promise<void> | void;
}
