import type { Bindings, ChildLoggerOptions, Logger } from "pino";

const noop = () => undefined;

/** Logs `args` at `level` (a name of one of the logger's levels) as `logger[level](...args)` would. */
const logAt = (logger: Logger, level: string, args: unknown[]): void =>
  Reflect.apply(Reflect.get(logger, level) as (...a: unknown[]) => void, logger, args);

/**
 * A child of `parent` with `bindings` (and `options`), made when it is first needed: a line its level lets through,
 * its own child, its level set, anything else asked of it. A pino child costs the serialisation and redaction of its
 * bindings when it is made, and most requests and messages log nothing at the level a service runs at: a child made
 * for each one anyway took 2.7% of the message-sender API's busy CPU samples under `pnpm bench api` and 2.5% of a
 * worker's under `pnpm bench pipeline`, at level warn. Until it is made, its level is `options.level` (a route's
 * logLevel) or else its parent's.
 */
export function lazyChild(parent: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
  let child: Logger | undefined;
  const made = () => {
    child ??= options ? parent.child(bindings, options) : parent.child(bindings);
    return child;
  };
  const levels = parent.levels.values;
  const enabled = (level: string) =>
    options?.level ? (levels[level] ?? 0) >= (levels[options.level] ?? 0) : parent.isLevelEnabled(level);
  return new Proxy(parent, {
    get(target, key) {
      if (!child && typeof key === "string") {
        if (Object.hasOwn(levels, key)) {
          return enabled(key) ? (...args: unknown[]) => logAt(made(), key, args) : noop;
        }
        if (key === "level") {
          return options?.level ?? target.level;
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
