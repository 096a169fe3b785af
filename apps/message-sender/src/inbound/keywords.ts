import type { InboundKeyword } from "@tidings/contracts";

export type Keywords = Readonly<Record<InboundKeyword, readonly string[]>>;

export const DEFAULT_KEYWORDS: Keywords = {
  stop: ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"],
  start: ["START", "YES", "UNSTOP", "OPTIN"],
  help: ["HELP", "INFO"],
};

/**
 * INBOUND_KEYWORDS (JSON) or the defaults; each list replaces its default when given. Throws an Error saying what
 * is wrong unless the value is a JSON object whose keys are among `stop`, `start` and `help` and whose values are
 * lists of non-empty strings (the config loader checks it at start-up: see loadMessageSenderConfig).
 */
export function parseKeywords(json: string | undefined): Keywords {
  if (!json) {
    return DEFAULT_KEYWORDS;
  }
  let given: unknown;
  try {
    given = JSON.parse(json);
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new Error('not a JSON object such as {"stop": ["STOP"], "start": ["START"], "help": ["HELP"]}');
  }
  for (const [key, words] of Object.entries(given)) {
    if (!Object.hasOwn(DEFAULT_KEYWORDS, key)) {
      throw new Error(`"${key}" is not a keyword (stop, start or help)`);
    }
    if (!Array.isArray(words) || !words.every((word) => typeof word === "string" && word.trim() !== "")) {
      throw new Error(`"${key}" is not a list of non-empty strings`);
    }
  }
  return { ...DEFAULT_KEYWORDS, ...(given as Partial<Record<InboundKeyword, string[]>>) };
}
