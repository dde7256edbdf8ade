import { creditCheckCharacter } from '../../src/identity/credit-code.ts';
import { checkCharacter } from '../../src/identity/id-number.ts';

/** The numbers drawn in this test file: ~300,000 to draw from, so 50 draws repeat one in ~250 runs. */
const issued = new Set<string>();

/** A citizen's credentials, unique per call in a test file, born in `region` (the number's first six digits). */
export function newCitizen(region = '330106'): {
  idNumber: string;
  name: string;
  phone: string;
  password: string;
} {
  const random = Math.floor(Math.random() * 899) + 100;
  const first17 = `${region}1985${String(Math.floor(Math.random() * 12) + 1).padStart(2, '0')}${String(Math.floor(Math.random() * 28) + 1).padStart(2, '0')}${random}`;
  // A repeat would share another test's account and its rate-limit counters.
  if (issued.has(first17)) return newCitizen(region);
  issued.add(first17);
  return {
    idNumber: `${first17}${checkCharacter(first17)}`,
    name: '测试公民',
    phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
    password: `correct horse ${random} battery`,
  };
}

/** A valid unified social credit code (enterprise, Guangzhou Tianhe), unique per call. */
export function newCreditCode(): string {
  const charset = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const organisation = Array.from(
    { length: 9 },
    () => charset[Math.floor(Math.random() * charset.length)],
  ).join('');
  const first17 = `91440106${organisation}`;
  return `${first17}${creditCheckCharacter(first17)}`;
}
