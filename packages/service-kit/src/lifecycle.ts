import closeWithGrace from "close-with-grace";
import type { Logger } from "pino";

export type Stop = () => Promise<void>;

/**
 * Runs one process: `start` returns its stop function. SIGINT/SIGTERM (or an uncaught error) stops it
 * gracefully within `graceMs`, then the process exits. A failed start exits with status 1.
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
  closeWithGrace({ delay: graceMs }, async ({ signal, err }) => {
    if (err) {
      logger.error({ err }, "stopping after an uncaught error");
    } else {
      logger.info({ signal }, "stopping");
    }
    await stop();
    logger.info("stopped");
  });
}

/** Runs stop functions in order, each once; an error in one does not skip the rest. */
export function stopAll(logger: Logger, ...steps: (Stop | undefined)[]): Stop {
  let done: Promise<void> | undefined;
  return () => {
    done ??= (async () => {
      for (const step of steps) {
        try {
          await step?.(); // inside the try: a step that throws before returning its promise is caught too
        } catch (err) {
          logger.error({ err }, "error while stopping");
        }
      }
    })();
    return done;
  };
}
