/**
 * Where an error page leads back to: the console, the counter page, My account or the start of
 * password recovery when the person was working there (a missing site in the console is no reason to start again from the home
 * page), the home page otherwise — and when they may not enter that area at all.
 *
 * @example
 *   wayBack('/admin/clients/nosuch', 'admin.client.not_found'); // { href: '/admin', label: 'admin.back' }
 *   wayBack('/admin', 'admin.forbidden');                       // undefined: the home page
 *   wayBack('/recover/code', 'recovery.too_many');              // { href: '/recover', label: 'recover.again' }
 */
import type { MessageKey } from '../messages/index.ts';

const AREAS = [
  { href: '/admin', label: 'admin.back', forbidden: 'admin.forbidden' },
  { href: '/staff', label: 'staff.back', forbidden: 'staff.forbidden' },
  { href: '/account', label: 'account.back', forbidden: undefined },
  // A recovery that expired or ended says to fill in the numbers again: the link goes there.
  { href: '/recover', label: 'recover.again', forbidden: undefined },
] as const;

export function wayBack(path: string, code: string): { href: string; label: MessageKey } | undefined {
  const area = AREAS.find(({ href }) => path === href || path.startsWith(`${href}/`));
  if (!area || code === area.forbidden) return undefined;
  return { href: area.href, label: area.label };
}
