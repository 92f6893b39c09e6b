// In-process state store for embedded runs: the same store logic as DynamoDB, over an in-memory item backend.
import { ItemStateStore, type ItemStateStoreOptions } from "../state/ItemStateStore";
import { InMemoryItemBackend } from "./InMemoryItemBackend";

export class InMemoryStateStore extends ItemStateStore {
  override readonly backend: InMemoryItemBackend;

  constructor(options: ItemStateStoreOptions = {}) {
    const backend = new InMemoryItemBackend();
    super(backend, options);
    this.backend = backend;
  }
}
