// A context manager for processes whose spans nest synchronously (the quoter: a tick's decision, its orders and its
// snapshot are made in one turn; its asynchronous hops carry their traceparent explicitly). It keeps the active
// context on a stack instead of AsyncLocalStorage: on Node 20 that enables async hooks, and so a promise hook on
// every promise of the process, sampled or not. A callback scheduled inside a span does not inherit it.
import { type Context, type ContextManager, ROOT_CONTEXT } from "@opentelemetry/api";

export class SynchronousContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.current;
    this.current = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== "function") return target;
    const manager = this;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(context, () => fn.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}
