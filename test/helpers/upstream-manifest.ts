import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The national platform as an upstream at an address nobody answers: stored, listed, never reached. */
export const UNREACHABLE_NATIONAL = {
  id: 'national',
  issuer: 'https://national.example.invalid',
  client_id: 'province',
  client_secret: 'a-secret-of-enough-length',
  max_identity_level: 2,
  name: { 'zh-CN': '国家政务服务平台', en: 'the national platform' },
  label: { 'zh-CN': '使用国家政务服务平台账号登录', en: 'Sign in with the national platform' },
  region_code: '110000',
};

/** A folder holding `manifest` as `<id>.json`: what `yitong upstreams sync` reads. */
export function upstreamsDir(manifest: typeof UNREACHABLE_NATIONAL = UNREACHABLE_NATIONAL): string {
  const dir = mkdtempSync(join(tmpdir(), 'yitong-upstreams-'));
  writeFileSync(join(dir, `${manifest.id}.json`), JSON.stringify(manifest));
  return dir;
}
