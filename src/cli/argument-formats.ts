/**
 * The formats of command-line values, checked before the database is opened so that a typo
 * costs nothing. Identity numbers, credit codes and dates go through the domain's own parsers:
 * the command line accepts exactly what the services do.
 *
 * @example
 *   regionCode('4401'); // 'The division code must be a valid 6-digit GB/T 2260 code, such as 440106. (…)'
 *   readableFile('no-such.json'); // 'file not found: no-such.json'
 */
import { accessSync, constants, statSync } from 'node:fs';
import { optionalPhone, parseIdNumberOrThrow } from '../accounts/service.ts';
import { isAppError } from '../errors.ts';
import { isRegionCode } from '../identity/region-code.ts';
import { parseCreditCodeOrThrow } from '../legal-persons/registration.ts';
import { parseUntil } from '../legal-persons/rules.ts';
import { parseDepartment, parseRegistrationScopes } from '../oidc/registration.ts';
import { bilingual, type Format } from './command.ts';

/** A domain parser as a format: the AppError it throws is the reason. */
const parsedBy =
  (parse: (value: string) => unknown): Format =>
  (value) => {
    try {
      parse(value);
      return undefined;
    } catch (error) {
      if (isAppError(error)) return bilingual(error);
      throw error;
    }
  };

export const idNumber = parsedBy(parseIdNumberOrThrow);
export const creditCode = parsedBy(parseCreditCodeOrThrow);
export const phone = parsedBy(optionalPhone);
export const dayNotPast = parsedBy(parseUntil);
export const department = parsedBy(parseDepartment);
export const registrationScopes = parsedBy(parseRegistrationScopes);
export const regionCode: Format = (value) =>
  isRegionCode(value) ? undefined : bilingual({ code: 'staff.region', params: {} });

export const listed = (words: readonly string[], conjunction: 'and' | 'or') =>
  new Intl.ListFormat('en-GB', { type: conjunction === 'and' ? 'conjunction' : 'disjunction' }).format(words);

export const oneOf =
  (choices: readonly string[]): Format =>
  (value) =>
    choices.includes(value) ? undefined : `must be ${listed(choices, 'or')} (got "${value}")`;

/** Digits, with `_` between thousands allowed (50_000 reads better than 50000); NaN otherwise. */
export const toWholeNumber = (value: string) =>
  /^\d[\d_]*$/.test(value) ? Number(value.replaceAll('_', '')) : Number.NaN;

export const wholeNumber =
  (min: number, max: number): Format =>
  (value) => {
    const number = toWholeNumber(value);
    return number >= min && number <= max
      ? undefined
      : `must be a whole number from ${min} to ${max} (got "${value}")`;
  };

/** Node's file-system error codes, in words. */
const FILE_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many symbolic links',
};

/** What went wrong with a file, from Node's error (or just its code): never a raw ENOENT. */
export function fileProblem(path: string, error: { code?: string; message?: string }): string {
  if (error.code === 'ENOENT') return `file not found: ${path}`;
  return `cannot read ${path}: ${FILE_ERRORS[error.code ?? ''] ?? error.message ?? error.code}`;
}

const readable =
  (kind: 'file' | 'directory'): Format =>
  (path) => {
    try {
      const isDirectory = statSync(path).isDirectory();
      if (isDirectory !== (kind === 'directory'))
        return fileProblem(path, { code: isDirectory ? 'EISDIR' : 'ENOTDIR' });
      accessSync(path, constants.R_OK);
      return undefined;
    } catch (error) {
      return fileProblem(path, error as NodeJS.ErrnoException);
    }
  };

export const readableFile = readable('file');
export const readableDirectory = readable('directory');
