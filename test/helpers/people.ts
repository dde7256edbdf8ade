import { checkCharacter } from '../../src/identity/id-number.ts';

/** A citizen's credentials, unique per call. */
export function newCitizen() {
  const random = Math.floor(Math.random() * 899) + 100;
  const first17 = `3301061985${String(Math.floor(Math.random() * 12) + 1).padStart(2, '0')}${String(Math.floor(Math.random() * 28) + 1).padStart(2, '0')}${random}`;
  return {
    idNumber: `${first17}${checkCharacter(first17)}`,
    name: '测试公民',
    phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
    password: `correct horse ${random} battery`,
  };
}
