/**
 * The one error a bad setting gives (which variable, and the rule it breaks), and the checks
 * that settings share.
 */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, rule: string) {
    super(`${variable} ${rule}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

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
  // Never echo the value: connection strings carry passwords.
  if (!url || !protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return value;
}

export function tryUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
