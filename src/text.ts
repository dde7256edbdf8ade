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
 * What makes a name read as another: the bidirectional embeddings, overrides and isolates
 * (`\u202Egnp.exe` reads as `exe.png`), and what shows as nothing (zero-width space, word joiner,
 * byte-order mark, soft hyphen). Not the joiners and the Mongolian and Arabic-script marks that
 * names in those scripts need.
 */
const INVISIBLE = /[\u00AD\u200B\u2060\uFEFF\u202A-\u202E\u2066-\u2069]/;

/** A name or label: one line, no control characters, nothing that makes it read as another. */
export const isPlainLine = (value: string) =>
  !/\p{Cc}/u.test(value) && !INVISIBLE.test(value) && value.isWellFormed();
