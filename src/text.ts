/**
 * What text from outside (a request, a manifest, a CSV row) must be before it is stored:
 * well-formed Unicode without NUL, which PostgreSQL's text and jsonb cannot hold, and names on
 * one line without control or invisible characters.
 *
 * @example
 *   textProblem('a\u0000b');     // 'a NUL character is not allowed'
 *   findTextProblem({ a: ['\ud800'] }); // 'the text is not well-formed Unicode'
 */
export function textProblem(value: string): string | undefined {
  if (value.includes('\0')) return 'a NUL character is not allowed';
  if (!value.isWellFormed()) return 'the text is not well-formed Unicode';
  return undefined;
}

/** The first problem of any string (keys included) within `value`, nested at most `maxDepth` levels. */
export function findTextProblem(value: unknown, maxDepth = 8, depth = 0): string | undefined {
  if (depth > maxDepth) return `values may nest at most ${maxDepth} levels`;
  if (typeof value === 'string') return textProblem(value);
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const problem =
      (Array.isArray(value) ? undefined : textProblem(key)) ?? findTextProblem(item, maxDepth, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * What makes a name read as another: what Unicode says shows as nothing (the bidirectional
 * controls, by which `\u202Egnp.exe` reads as `exe.png`, zero-width spaces, fillers, tags), but
 * not what names in some scripts need: the joiners, Mongolian's variation selectors and vowel
 * separator, and the variation selectors of CJK ideographs.
 */
const INVISIBLE =
  /(?!\u200C|\u200D|[\u180B-\u180F]|[\uFE00-\uFE0F]|[\u{E0100}-\u{E01EF}])\p{Default_Ignorable_Code_Point}/u;

/** A name or label: one line, no control characters, nothing that makes it read as another. */
export const isPlainLine = (value: string) =>
  !/\p{Cc}/u.test(value) && !INVISIBLE.test(value) && value.isWellFormed();
