/**
 * A person's name as on the identity card: Chinese (with the middle dot of ethnic-minority names,
 * 阿依古丽·买买提, and 〇), or Latin letters with spaces, hyphens and apostrophes (a foreigner's
 * permanent residence card). Whatever else is typed must still show as a name on every page and
 * in every site's token, so a name must begin with a letter and may not be made of what shows as
 * nothing: fillers that Unicode counts as letters (ㅤ U+3164) or invisible characters, a pile of
 * combining marks drawn over the line (Zalgo text).
 *
 * Latin mixed with Cyrillic or Greek in one name is refused: no identity card mixes them, and
 * their look-alikes (Cyrillic А, Greek Ο) make a name that reads like someone else's but never
 * matches an authority's record.
 *
 * @example
 *   parsePersonName(' 阿依古丽·买买提 ');  // { ok: true, value: '阿依古丽·买买提' }
 *   parsePersonName('...');                // { ok: false, error: 'name.letters' }
 */
import type { Parsed } from './id-number.ts';

export type PersonNameError = 'name.invalid' | 'name.letters' | 'name.marks' | 'name.scripts';

const CHARACTERS = /^[\p{L}\p{M}〇·・. '’-]{1,50}$/u;
/** Letters that show as nothing (Hangul fillers, Khmer inherent vowels) and other invisible characters. */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800]/u;
/** A mark must follow a letter (or another mark), and a few in a row are enough for any script. */
const STRAY_MARK = /(^|[^\p{L}\p{M}])\p{M}|\p{M}{4}/u;

export function parsePersonName(input: string): Parsed<string, PersonNameError> {
  const name = input.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (INVISIBLE.test(name)) return { ok: false, error: 'name.letters' };
  if (!CHARACTERS.test(name)) return { ok: false, error: 'name.invalid' };
  if (!/^[\p{L}〇]/u.test(name)) return { ok: false, error: 'name.letters' };
  if (STRAY_MARK.test(name)) return { ok: false, error: 'name.marks' };
  if (/\p{Script=Latin}/u.test(name) && /[\p{Script=Cyrillic}\p{Script=Greek}]/u.test(name))
    return { ok: false, error: 'name.scripts' };
  return { ok: true, value: name };
}
