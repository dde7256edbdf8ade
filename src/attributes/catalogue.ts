/**
 * The catalogue of verified attribute types (户籍, 学历, 营业执照 …): one manifest per type in a
 * folder (`attributes/*.json`), like the clients. Each names the type (code, zh-CN and en), whose
 * it is (a person's or an entity's), the departments that are its source, its sensitivity
 * (一般/敏感: a sensitive type is released only for a stated service item and purpose) and how
 * long a value is kept, and gives the JSON Schema (2020-12) every value must meet. A folder is
 * checked whole: one bad manifest is named, with the field, and nothing of the folder is used.
 *
 * @example
 *   const catalogue = await loadCatalogue('attributes/');
 *   catalogue.get('education')?.check({ level: '本科', institution: '中山大学', graduated_on: '2015-06-30' });
 *   // [] or ['/graduated_on: must match format "date"']
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import { parseCertificateId } from '../certificates/identifier.ts';
import { REGION_CODE } from '../identity/region-code.ts';
import { isPlainLine } from '../text.ts';

const line = (max: number) =>
  z.string().trim().min(1).max(max).refine(isPlainLine, 'must be one line of text');

const manifestSchema = z.strictObject({
  code: z.string().regex(/^[a-z][a-z0-9_]{2,47}$/, 'must be 3–48 characters of a–z, 0–9 and _'),
  name: z.strictObject({ 'zh-CN': line(50), en: line(100) }),
  holder: z.enum(['person', 'entity']),
  sources: z
    .array(
      z.strictObject({
        department: line(100),
        region_code: z.string().regex(REGION_CODE, 'must be a 6-digit GB/T 2260 division code'),
      }),
    )
    .min(1),
  sensitivity: z.enum(['general', 'sensitive']),
  retention_days: z.number().int().min(1).max(36_500),
  /**
   * An electronic certificate (电子证照) type: its GB/T 36904 type code. Each value then carries
   * the certificate's identifier (`certificate_id`, of this type), its number and its status.
   */
  certificate: z
    .strictObject({ type_code: z.string().regex(/^[0-9A-Z]{1,32}$/, 'must be 1–32 of 0–9 A–Z') })
    .optional(),
  /** Each field of a value as people read it, in both languages. */
  labels: z.record(z.string(), z.strictObject({ 'zh-CN': line(50), en: line(100) })).default({}),
  schema: z.record(z.string(), z.unknown()),
});

export type AttributeManifest = z.infer<typeof manifestSchema>;

export interface AttributeType extends AttributeManifest {
  /** The value's problems against the type's schema, one line each (`/field: message`); [] when it fits. */
  check(value: unknown): string[];
}

export class CatalogueError extends Error {
  readonly file: string;
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'CatalogueError';
    this.file = file;
    this.problems = problems;
  }
}

/** One validator for every type: strict (an unknown keyword in a schema is a mistake), with formats. */
function validator() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv, ['date', 'date-time', 'email', 'uri']);
  return ajv;
}

interface CertificateFields {
  certificate_id?: unknown;
  status?: unknown;
}

/** What a certificate value must be beyond its schema: an identifier of its own type, a status. */
function certificateProblems(value: CertificateFields, typeCode: string): string[] {
  const id = parseCertificateId(String(value.certificate_id ?? ''));
  if (!id.ok) return [`/certificate_id: ${id.error}`];
  if (id.value.typeCode !== typeCode) return [`/certificate_id: not of type ${typeCode}`];
  if (!['valid', 'revoked', 'expired'].includes(String(value.status)))
    return ['/status: must be valid, revoked or expired'];
  return [];
}

/**
 * A value is an object, and every list in it is bounded (`maxItems` ≤ 1,000): validating
 * `uniqueItems` costs the square of a list's length, and a source's record must stay cheap.
 */
function schemaShapeProblem(schema: Record<string, unknown>): string | undefined {
  if (schema.type !== 'object') return 'a value must be an object ("type": "object")';
  const unbounded = (node: unknown): boolean => {
    if (typeof node !== 'object' || node === null) return false;
    const record = node as Record<string, unknown>;
    const list = 'items' in record || 'uniqueItems' in record || record.type === 'array';
    if (list && !(typeof record.maxItems === 'number' && record.maxItems <= 1000)) return true;
    return Object.values(record).some(unbounded);
  };
  return unbounded(schema.properties ?? {}) ? 'every list needs "maxItems" (at most 1000)' : undefined;
}

export function checkManifest(file: string, json: unknown, ajv = validator()): AttributeType {
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success)
    throw new CatalogueError(
      file,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(manifest)'}: ${issue.message}`),
    );
  const shape = schemaShapeProblem(parsed.data.schema);
  if (shape) throw new CatalogueError(file, [`schema: ${shape}`]);
  let validate: ReturnType<typeof ajv.compile>;
  try {
    validate = ajv.compile(parsed.data.schema);
  } catch (error) {
    throw new CatalogueError(file, [`schema: ${(error as Error).message}`]);
  }
  const { certificate } = parsed.data;
  return {
    ...parsed.data,
    check(value) {
      if (!validate(value))
        // The first few problems are enough to fix a record; a flood of them is not.
        return (validate.errors ?? [])
          .slice(0, 10)
          .map((e) => `${e.instancePath || '(value)'}: ${e.message ?? 'is not valid'}`);
      return certificate ? certificateProblems(value as CertificateFields, certificate.type_code) : [];
    },
  };
}

/** Every `*.json` of `dir`, checked; a code given twice is an error too. */
export async function loadCatalogue(dir: string): Promise<Map<string, AttributeType>> {
  const ajv = validator();
  const types = new Map<string, AttributeType>();
  const files = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  for (const name of files) {
    const file = join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new CatalogueError(file, [`not JSON: ${(error as Error).message}`]);
    }
    const type = checkManifest(file, json, ajv);
    if (types.has(type.code)) throw new CatalogueError(file, [`code: ${type.code} is defined twice`]);
    types.set(type.code, type);
  }
  return types;
}
