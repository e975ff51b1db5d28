/**
 * `@engram/testkit/vitest`: the conformance kit as Vitest suites. The only entry of the testkit that
 * imports `vitest`, so the root (`@engram/testkit`, with the framework-free `runConformance`) loads in a
 * project without any test framework.
 */
export {
  availabilityTests,
  declarationTests,
  describeMemoryProvider,
  lifecycleTests,
  recallTests,
  sessionEndTests,
  sessionSwitchTests,
  shutdownTests,
  toolCallTests,
  toolSchemaTests,
} from "../conformance/describe-memory-provider.js";
