import closeWithGrace from "close-with-grace";
import type { Logger } from "pino";

export type Stop = () => Promise<void>;

/** Where a stop made by `stopAll` is: the step running (a nested one as `outer/inner`), how long each one took. */
export interface StopProgress {
  running?: string;
  tookMs: Record<string, number>;
}

/** A stop made of named steps (see stopAll), which can say where it is. */
export interface Stopper extends Stop {
  progress(): StopProgress;
}

const progressOf = (stop: Stop): StopProgress | undefined =>
  "progress" in stop && typeof stop.progress === "function" ? (stop as Stopper).progress() : undefined;

/**
 * Runs one process: `start` returns its stop function. SIGINT/SIGTERM (or an uncaught error) stops it
 * gracefully within `graceMs`, then the process exits; "stopped" logs how long each step took. A stop that takes
 * longer is cut short (exit status 1) with a log naming the step it was still waiting for. A failed start exits with
 * status 1.
 */
export async function runProcess(
  logger: Logger,
  start: () => Promise<Stop>,
  graceMs = 15_000,
): Promise<void> {
  let stop: Stop;
  try {
    stop = await start();
  } catch (err) {
    logger.fatal({ err }, "start-up failed");
    process.exit(1);
  }
  closeWithGrace(
    {
      delay: graceMs,
      logger,
      onTimeout: () => {
        const { running, tookMs } = progressOf(stop) ?? {};
        logger.fatal({ waitingFor: running, tookMs }, `not stopped within ${graceMs} ms: exiting`);
      },
    },
    async ({ signal, err }) => {
      if (err) {
        logger.error({ err }, "stopping after an uncaught error");
      } else {
        logger.info({ signal }, "stopping");
      }
      await stop();
      logger.info({ tookMs: progressOf(stop)?.tookMs }, "stopped");
    },
  );
}

/**
 * Runs the named stop steps in the order given, each once; an error in one is logged and does not skip the rest.
 * A step that is itself a `stopAll` reports its own steps as `outer/inner`.
 */
export function stopAll(logger: Logger, steps: Record<string, Stop | undefined>): Stopper {
  let done: Promise<void> | undefined;
  let running: { name: string; step: Stop } | undefined;
  const tookMs: Record<string, number> = {};
  const stop = () => {
    done ??= (async () => {
      for (const [name, step] of Object.entries(steps)) {
        if (!step) {
          continue;
        }
        running = { name, step };
        const started = performance.now();
        try {
          await step(); // inside the try: a step that throws before returning its promise is caught too
        } catch (err) {
          logger.error({ err, step: name }, "error while stopping");
        }
        tookMs[name] = Math.round(performance.now() - started);
        for (const [inner, ms] of Object.entries(progressOf(step)?.tookMs ?? {})) {
          tookMs[`${name}/${inner}`] = ms;
        }
      }
      running = undefined;
    })();
    return done;
  };
  const progress = (): StopProgress => {
    const inner = running && progressOf(running.step)?.running;
    return { running: running && (inner ? `${running.name}/${inner}` : running.name), tookMs: { ...tookMs } };
  };
  return Object.assign(stop, { progress });
}
