/**
 * A step before what cannot be undone (revoking a site, signing out everywhere, locking an
 * account, deregistering an organisation): a form posted without `confirmed=yes` gets a page
 * that says what will happen, with a red button that posts the same form again, confirmed, and
 * a way back. No script needed; a keyboard or a screen reader meets the same page.
 *
 * @example
 *   if (!confirmFirst(ctx, form, { title: 'confirm.revoke.title', lead: tr(ctx, 'confirm.revoke', { site }), back: '/account/sites' })) return;
 */
import type { Context } from 'koa';
import type { MessageKey } from '../messages/index.ts';
import { render } from './render.ts';

export function confirmFirst(
  ctx: Context,
  form: Record<string, string>,
  what: { title: MessageKey; lead: string; button?: MessageKey; back: string },
): boolean {
  if (form.confirmed === 'yes') return true;
  render(ctx, 'confirm', {
    title: what.title,
    lead: what.lead,
    button: what.button ?? what.title,
    back: what.back,
    action: ctx.path,
    fields: Object.entries(form).filter(([name]) => name !== '_csrf' && name !== 'confirmed'),
  });
  return false;
}
