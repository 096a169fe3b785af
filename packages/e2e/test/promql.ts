/**
 * The metric names a PromQL expression reads: every identifier that is not a function, a keyword, a label name (in
 * braces or a by/without/on/ignoring/group_left/group_right list), a string or a duration. Enough for the dashboard's
 * and the alerts' expressions (no recording rules, no `{__name__=...}` selectors).
 */
const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "inf",
  "nan",
]);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, " ") // strings
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // label lists
    .replace(/\[[^\]]*\]/g, " ") // ranges and subqueries
    .replace(/\boffset\s+-?[0-9a-z]+/g, " ")
    .replace(/\b[0-9][0-9a-zA-Z_.]*/g, " "); // numbers, durations
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    const [token, call] = [match[0].replace(/\s*\($/, ""), match[1]];
    if (!call && !KEYWORDS.has(token.toLowerCase())) {
      names.add(token);
    }
  }
  return [...names];
}

/** The metric names a Prometheus text exposition declares (`# TYPE`), with a histogram's and summary's series. */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name as string);
    if (type === "histogram") {
      for (const suffix of ["_bucket", "_sum", "_count"]) {
        names.add(`${name}${suffix}`);
      }
    } else if (type === "summary") {
      names.add(`${name}_sum`).add(`${name}_count`);
    }
  }
  return names;
}
