/**
 * The one error a bad setting gives (which variable, and the rule it breaks), and the checks
 * that settings share.
 */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, rule: string) {
    super(printable(`${variable} ${rule}`));
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/**
 * The error is printed to an operator's terminal with the value it got: control characters
 * (escape sequences, a carriage return starting a fake line) and format characters
 * (bidirectional overrides, zero-width ones) are shown as `\u…`, and a very long value is cut.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}]/gu;
const printable = (text: string) => {
  const shown = text.replace(UNPRINTABLE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return shown.length > 400 ? `${shown.slice(0, 400)}…` : shown;
};

export type Env = Record<string, string | undefined>;

export function parseInteger(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

export function optionalUrl(
  name: string,
  value: string | undefined,
  protocols: string[],
): string | undefined {
  if (!value) return undefined;
  const url = tryUrl(value);
  if (!url || !protocols.includes(url.protocol)) {
    throw new ConfigError(
      name,
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}${gotScheme(value)}`,
    );
  }
  return value;
}

/**
 * What a bad URL setting held, for its error: only the scheme. Connection strings and webhook
 * URLs carry passwords and tokens, which must not reach a terminal or a log.
 *
 * @example
 *   gotScheme('mysql://app:pw@db/yitong'); // ' (got "mysql://…")'
 */
export function gotScheme(value: string): string {
  // Only a `scheme://` prefix counts: in `user:pw@host` what precedes the colon is a user name.
  const scheme = /^([a-z][a-z\d+.-]*:)\/\//i.exec(value)?.[1];
  return scheme ? ` (got "${scheme}//…")` : ' (got something that is not a URL)';
}

export function tryUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
