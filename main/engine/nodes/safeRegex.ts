import safeRegex from 'safe-regex2';

/**
 * Regular expressions written by users (JSON Schema `pattern` and `patternProperties` keys,
 * JSONata `/regex/` literals) run on payloads that anyone on the broker can publish. V8's regex
 * engine backtracks, so a pattern such as `(a+)+$` takes exponential time on `aaaa…!` and would
 * freeze the whole engine. Every such pattern is checked once, at load (and again where it is
 * compiled, as a second line), and refused when it is not a valid JavaScript regex or when
 * safe-regex2 flags it.
 *
 * What safe-regex2 flags: a quantifier inside a quantified group (star height above 1, the
 * classic catastrophic shape), more than MAX_REGEX_QUANTIFIERS quantifiers, or syntax its parser
 * does not know (lookbehind, for example), which it cannot vouch for. What it does not catch:
 * overlapping alternatives under one quantifier (`(a|a)*$`) and polynomial shapes (`.*a.*a.*a$`);
 * payload size limits keep those bounded but not cheap.
 */

/** safe-regex2's own default: more quantifiers than this in one pattern are refused. */
export const MAX_REGEX_QUANTIFIERS = 25;
/** A pattern longer than this (characters) is refused outright. */
export const MAX_REGEX_LENGTH = 4096;
/** Verdicts kept per pattern and flags, so a regex evaluated for every message is checked once. */
const VERDICT_CACHE_LIMIT = 1024;

const verdicts = new Map<string, string | undefined>();

/**
 * What is wrong with a user's regular expression, or undefined when it may be used. `flags` are
 * the flags it is compiled with (`u` for JSON Schema, as Ajv compiles them).
 */
export function regexProblem(source: string, flags = ''): string | undefined {
  const key = `${flags}/${source}`;
  if (verdicts.has(key)) return verdicts.get(key);
  const verdict = judge(source, flags);
  if (verdicts.size >= VERDICT_CACHE_LIMIT) verdicts.delete(verdicts.keys().next().value as string);
  verdicts.set(key, verdict);
  return verdict;
}

function judge(source: string, flags: string): string | undefined {
  if (source.length > MAX_REGEX_LENGTH) {
    return `is ${source.length} characters long; the limit is ${MAX_REGEX_LENGTH}`;
  }
  try {
    new RegExp(source, flags);
  } catch (error) {
    return `is not a valid regular expression: ${(error as Error).message}`;
  }
  if (!safeRegex(source, { limit: MAX_REGEX_QUANTIFIERS })) {
    return (
      'may backtrack catastrophically (safe-regex2 refuses a quantifier inside a quantified group such as (a+)+, ' +
      `more than ${MAX_REGEX_QUANTIFIERS} quantifiers, and syntax it cannot analyse such as lookbehind)`
    );
  }
  return undefined;
}

/** Throws a clear error for a pattern regexProblem refuses. */
export function assertSafeRegex(source: string, flags = ''): void {
  const problem = regexProblem(source, flags);
  if (problem !== undefined) throw new Error(`regular expression /${source}/ ${problem}`);
}

/**
 * The `code.regExp` engine given to Ajv: the same RegExp Ajv would build, after the check. Ajv
 * calls it for every `pattern` and `patternProperties` key it compiles (not for `format`, whose
 * regexes come from ajv-formats and are vetted there), so a pattern the load-time walk missed
 * still cannot reach the validator. `code` names the constructor for Ajv's standalone code,
 * which the engine does not use.
 */
export const safeAjvRegExp = Object.assign(
  (pattern: string, flags: string): RegExp => {
    assertSafeRegex(pattern, flags);
    return new RegExp(pattern, flags);
  },
  { code: 'new RegExp' },
);

/**
 * JSONata's `RegexEngine` option: JSONata builds each `/regex/` literal with `new
 * RegexEngine(parsed)` when it evaluates it, including literals inside strings given to `$eval`,
 * which no load-time check can see. Returning a plain RegExp from the constructor keeps V8's fast
 * paths (a RegExp subclass loses them).
 */
function SafeJsonataRegex(pattern: RegExp): RegExp {
  const problem = regexProblem(pattern.source, pattern.flags);
  if (problem !== undefined) {
    throw new Error(`regular expression /${pattern.source}/ ${problem}`);
  }
  return new RegExp(pattern);
}

export const SafeJsonataRegexEngine = SafeJsonataRegex as unknown as RegExpConstructor;
