/** RFC 6238 codes computed independently of the code under test (node:crypto only). */
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(input: string): Buffer {
  let bits = '';
  for (const char of input.replace(/[=\s]/g, '').toUpperCase())
    bits += BASE32.indexOf(char).toString(2).padStart(5, '0');
  return Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => Number.parseInt(byte, 2)));
}

/** The 6-digit code for `secret` (base32) at time step `step` (default: now). */
export function totpCode(secret: string, step = currentStep()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = (mac.at(-1) as number) & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

export const currentStep = () => Math.floor(Date.now() / 30_000);

/**
 * An authenticator app: each code it gives is for a later step than the last (the provider
 * accepts each step once), waiting for the clock when it has to.
 */
export class Authenticator {
  readonly secret: string;
  private lastStep = 0;
  constructor(secret: string) {
    this.secret = secret;
  }

  /** Records that the code of `step` was used (e.g. to confirm enrolment). */
  used(step: number) {
    this.lastStep = Math.max(this.lastStep, step);
  }

  async nextCode(): Promise<string> {
    const step = Math.max(currentStep(), this.lastStep + 1);
    // The provider accepts one step ahead of its clock, no more.
    while (step > currentStep() + 1) await new Promise((resolve) => setTimeout(resolve, 1000));
    this.lastStep = step;
    return totpCode(this.secret, step);
  }
}
