import { describe, expect, it } from "vitest";
import { jsonDeeperThan } from "./body.ts";

describe("jsonDeeperThan", () => {
  it.each([
    ["1", 0, false],
    ["{}", 0, true],
    ["{}", 1, false],
    ['{"a": [1, {"b": []}]}', 4, false],
    ['{"a": [1, {"b": []}]}', 3, true],
    // brackets inside strings do not count; escaped quotes and backslashes do not end a string early
    ['["[[[[", "\\"[[[", "\\\\"]', 1, false],
    ['["\\\\", [[1]]]', 2, true],
    ['["\\\\\\"[[", [1]]', 2, false],
    // siblings do not add up
    ["[[1], [2], [3], {}]", 2, false],
  ])("%s deeper than %i: %s", (text, max, deeper) => {
    expect(jsonDeeperThan(text, max)).toBe(deeper);
  });
});
