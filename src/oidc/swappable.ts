/**
 * The provider as the rest of Yitong holds it: one object that always stands for the current
 * instance. oidc-provider fixes its signing keys when it is built, so a key rotated on any node
 * means a new instance here: `swap` builds it, and every caller — pages, APIs, the protocol
 * endpoints — uses it from the next request on. Listeners registered with `on` follow it.
 *
 * @example
 *   const { provider, swap } = createSwappable(() => createProvider({ ...deps, signingKeys }));
 *   ({ keys: signingKeys } = await loadSigningKeys(db, sealer));
 *   swap();
 */
import type Provider from 'oidc-provider';

type Listener = (...args: never[]) => unknown;

export function createSwappable(build: () => Provider) {
  let current = build();
  const listeners: Array<[string, Listener]> = [];
  const callbacks = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  const provider: Provider = new Proxy({} as Provider, {
    get(_, property) {
      // The request handler of the current instance, built once per instance: cheap to ask for.
      if (property === 'callback')
        return () => {
          if (!callbacks.has(current)) callbacks.set(current, current.callback());
          return callbacks.get(current);
        };
      if (property === 'on')
        return (event: string, listener: Listener) => {
          listeners.push([event, listener]);
          current.on(event as never, listener as never);
          return provider;
        };
      const value: unknown = Reflect.get(current, property, current);
      // Methods run on the current instance; its model classes (Client, Grant …) go out as they are.
      return typeof value === 'function' && /^[a-z]/.test(String(property)) ? value.bind(current) : value;
    },
    set: (_, property, value) => Reflect.set(current, property, value),
  });
  return {
    provider,
    swap() {
      const next = build();
      for (const [event, listener] of listeners) next.on(event as never, listener as never);
      current = next;
    },
  };
}
