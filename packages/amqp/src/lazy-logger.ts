import type { Bindings, ChildLoggerOptions, Logger } from "pino";

const noop = () => undefined;

/**
 * A child of `parent` with `bindings` (and `options`), made when it is first needed: a line its level lets through, a
 * call of another of its methods (its own child), its level set, any other property read. A pino child costs the
 * serialisation and redaction of its bindings when it is made, and most requests and messages log nothing at the level
 * a service runs at: a child made for each one anyway took 2.7% of the message-sender API's busy CPU samples under
 * `pnpm bench api` and 2.5% of a worker's under `pnpm bench pipeline`, at level warn. Until it is made, its level is
 * `options.level` (a route's logLevel) or else its parent's.
 */
export function lazyChild(parent: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
  let child: Logger | undefined;
  const made = () => {
    child ??= options ? parent.child(bindings, options) : parent.child(bindings);
    return child;
  };
  /** Its method `key`, called on it once it is made. */
  const call =
    (key: PropertyKey) =>
    (...args: unknown[]): unknown => {
      const real = made();
      return Reflect.apply(Reflect.get(real, key) as (...a: unknown[]) => unknown, real, args);
    };
  const levels = parent.levels.values;
  const enabled = (level: string) =>
    options?.level ? (levels[level] ?? 0) >= (levels[options.level] ?? 0) : parent.isLevelEnabled(level);
  return new Proxy(parent, {
    get(target, key) {
      if (!child) {
        if (typeof key === "string" && Object.hasOwn(levels, key)) {
          return enabled(key) ? call(key) : noop;
        }
        if (key === "level") {
          return options?.level ?? target.level;
        }
        if (key === "isLevelEnabled") {
          return enabled;
        }
        // A method (its child's, a check that it has one: fastify's of a request's logger) makes it when called.
        if (typeof Reflect.get(target, key) === "function") {
          return call(key);
        }
      }
      const real = made();
      const value: unknown = Reflect.get(real, key, real);
      return typeof value === "function" ? value.bind(real) : value;
    },
    set(_target, key, value) {
      return Reflect.set(made(), key, value);
    },
  });
}
