import { describeMemoryProvider, toolSchemaTests } from "../conformance/describe-memory-provider.js";
import { InMemoryMemoryProvider } from "./in-memory-memory-provider.js";
import { inMemoryMemoryProviderTestInitializer } from "./in-memory-memory-provider-initializer.js";
import { InMemoryMemoryStore } from "./in-memory-memory-store.js";

// The whole kit on the reference provider: every check must pass (none may skip).
describeMemoryProvider(inMemoryMemoryProviderTestInitializer());

// One capability suite on its own, with providers sharing one store (as they would share a database):
// the kit's own session ids and markers keep the checks apart.
const shared = new InMemoryMemoryStore();
toolSchemaTests(
  inMemoryMemoryProviderTestInitializer({
    name: "InMemoryMemoryProvider on a shared store",
    create: (props) => new InMemoryMemoryProvider({ ...props, store: shared }),
  }),
);
