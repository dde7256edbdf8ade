/**
 * The business registration source (市场主体登记): does it list this person as the legal
 * representative of this credit code? A claim it confirms is proved; anything else waits for a
 * counter or an administrator. Pluggable like the identity verifier: an HTTP service of the
 * province (BUSINESS_REGISTRY_URL), or a JSON file standing in for it in development and tests.
 *
 * @example
 *   await registry.check({ creditCode, idNumber, name: '张三' });
 *   // { outcome: 'match', entityName: '广州某某科技有限公司' } | { outcome: 'mismatch' } | { outcome: 'unavailable' }
 */
import type { CreditCode } from '../identity/credit-code.ts';
import { parseCreditCode } from '../identity/credit-code.ts';
import { type IdNumber, parseIdNumber } from '../identity/id-number.ts';
import { askSource, readSourceFile, type SourceOptions, sameName } from '../identity/verifier.ts';

export interface RegistryAnswer {
  outcome: 'match' | 'mismatch' | 'unavailable';
  /** The entity's registered name, when the source gives it (it then replaces what was typed). */
  entityName?: string | undefined;
}

export interface BusinessRegistry {
  readonly kind: string;
  check(claim: { creditCode: CreditCode; idNumber: IdNumber; name: string }): Promise<RegistryAnswer>;
}

/**
 * POSTs `{"credit_code", "representative_id_number", "representative_name"}` and expects 200
 * `{"match": true|false, "name"?: "<registered name>"}`; anything else is `unavailable`.
 */
export function createHttpRegistry(options: SourceOptions): BusinessRegistry {
  return {
    kind: 'http',
    async check({ creditCode, idNumber, name }) {
      const answer = await askSource(options, {
        credit_code: creditCode,
        representative_id_number: idNumber,
        representative_name: sameName(name),
      });
      if (typeof answer?.match !== 'boolean') return { outcome: 'unavailable' };
      if (!answer.match) return { outcome: 'mismatch' };
      const entityName = typeof answer.name === 'string' ? answer.name.trim().slice(0, 100) : '';
      return { outcome: 'match', entityName: entityName || undefined };
    },
  };
}

/**
 * `[{"credit_code", "name", "representative_id_number", "representative_name"}, …]`, read and
 * checked once; a bad file fails at start naming the record and the rule, never a number.
 */
export async function loadFileRegistry(path: string): Promise<BusinessRegistry> {
  const { records, fail } = await readSourceFile(
    path,
    'BUSINESS_REGISTRY_FILE',
    '{"credit_code", "name", "representative_id_number", "representative_name"}',
  );
  const byCode = new Map<string, { name: string; idNumber: string; representative: string }>();
  (records as Array<Record<string, unknown> | null>).forEach((record, index) => {
    const text = (key: string) => (typeof record?.[key] === 'string' ? (record[key] as string).trim() : '');
    const code = parseCreditCode(text('credit_code'));
    const idNumber = parseIdNumber(text('representative_id_number'));
    if (!code.ok) throw fail(`record ${index}: credit_code fails the rule ${code.error}`);
    if (!idNumber.ok)
      throw fail(`record ${index}: representative_id_number fails the rule ${idNumber.error}`);
    if (!text('name') || !text('representative_name')) throw fail(`record ${index} lacks a name`);
    byCode.set(code.value, {
      name: text('name'),
      idNumber: idNumber.value,
      representative: sameName(text('representative_name')),
    });
  });
  return {
    kind: 'file',
    async check({ creditCode, idNumber, name }) {
      const record = byCode.get(creditCode);
      if (!record || record.idNumber !== idNumber || record.representative !== sameName(name))
        return { outcome: 'mismatch' };
      return { outcome: 'match', entityName: record.name };
    },
  };
}
