/**
 * Where the language link leads. After a GET it reloads the page (`?lang=`). A page that answers
 * a form has no address to reload (a GET there is a 405, or starts the step over): its link leads
 * to the page that shows the same step again, or to the first page of its area.
 *
 * @example
 *   languagePath('GET', '/account/sessions');            // undefined: '?lang=' on this page
 *   languagePath('POST', '/interaction/Ab3/login');     // '/interaction/Ab3'
 *   languagePath('POST', '/admin/people/search');        // '/admin'
 */
const AFTER_FORM = [
  /^\/interaction\/[\w-]+/, // the sign-in shows its current step again
  /^\/recover(\/(code|factor|password))?$/,
  /^\/reset\/[\w-]+$/,
  /^\/register$/,
  /^\/(account|admin|staff)(?=\/|$)/,
];

export function languagePath(method: string, path: string): string | undefined {
  if (method === 'GET' || method === 'HEAD') return undefined;
  for (const pattern of AFTER_FORM) {
    const match = pattern.exec(path);
    if (match) return match[0];
  }
  return '/';
}
