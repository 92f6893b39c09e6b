import { InMemoryStateStore } from "../../lib/adapters/embedded/InMemoryStateStore";
import { stateStoreContract } from "../contract/stateStore.contract";

stateStoreContract("InMemoryStateStore", async (options) => new InMemoryStateStore(options));
