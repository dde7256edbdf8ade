import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * A minimal cookie-keeping user agent, enough to walk the provider's pages the way
 * a browser does (redirects followed by hand, forms submitted with their hidden fields).
 */
export interface Page {
  url: string;
  status: number;
  html: string;
  headers?: Headers;
}

interface Cookie {
  value: string;
  path: string;
  host: string;
}

/**
 * Cookies are kept by name: `_session`, as tests read them. Those of a host other than
 * `localhost` (a second provider, at 127.0.0.1) are kept apart, by `name@host`, as a browser
 * keeps each host's cookies.
 */
const cookieKey = (name: string, host: string) => (host === 'localhost' ? name : `${name}@${host}`);

export class Browser {
  readonly cookies = new Map<string, Cookie>();
  /** Sent as User-Agent (fetch's own otherwise). */
  readonly userAgent: string | undefined;

  constructor(userAgent?: string) {
    this.userAgent = userAgent;
  }

  cookieHeader(url: URL): string {
    return [...this.cookies]
      .filter(([, cookie]) => cookie.host === url.hostname && url.pathname.startsWith(cookie.path))
      .map(([key, cookie]) => `${key.split('@')[0]}=${cookie.value}`)
      .join('; ');
  }

  private store(response: Response, host: string) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const index = pair.indexOf('=');
      const name = pair.slice(0, index);
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) || '/';
      const expired = attributes.some(
        (a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && new Date(a.slice(8)) < new Date()),
      );
      const key = cookieKey(name, host);
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { value: pair.slice(index + 1), path, host });
    }
  }

  /** One request, no redirect following. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = {
      cookie: this.cookieHeader(target),
      accept: 'text/html',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
      ...(this.userAgent && { 'user-agent': this.userAgent }),
    };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await navigate(target, init.method ?? (init.form ? 'POST' : 'GET'), headers, body);
    this.store(response, target.hostname);
    return response;
  }

  /**
   * Follows redirects until a page answers, or until a URL starting with `stopAt` (a client's
   * redirect_uri) is reached, which is returned without being requested.
   */
  async visit(url: string, init: { form?: Record<string, string> } = {}, stopAt?: string): Promise<Page> {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops++) {
      current = new URL(response.headers.get('location') as string, current).href;
      if (stopAt && current.startsWith(stopAt)) return { url: current, status: response.status, html: '' };
      response = await this.request(current);
    }
    return { url: current, status: response.status, html: await response.text(), headers: response.headers };
  }
}

/**
 * One HTTP request as a browser's navigation sends it. Not fetch: it always says
 * `Sec-Fetch-Mode: cors`, and relying parties such as mod_auth_openidc answer that with 401.
 */
function navigate(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Response> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(url, { method, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(incoming.headers))
          for (const each of Array.isArray(value) ? value : [value ?? '']) answer.append(name, each);
        const status = incoming.statusCode ?? 500;
        const text = [204, 304].includes(status) ? null : Buffer.concat(chunks);
        resolve(new Response(text, { status, headers: answer }));
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The value of a hidden input in a page, e.g. the CSRF token. */
export function hiddenField(html: string, name: string): string {
  const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!match) throw new Error(`no field ${name} in page`);
  return match[1] as string;
}

/** The action of the first form whose action contains `fragment`. */
export function formAction(html: string, fragment: string): string {
  const match = [...html.matchAll(/<form[^>]*action="([^"]*)"/g)].find((m) => m[1]?.includes(fragment));
  if (!match) throw new Error(`no form with action containing ${fragment}`);
  return (match[1] as string).replaceAll('&amp;', '&');
}

/** Submits the page's form whose action contains `fragment`, with its CSRF token and `fields`. */
export function submit(
  browser: Browser,
  page: Page,
  fragment: string,
  fields: Record<string, string> = {},
  stopAt?: string,
): Promise<Page> {
  return browser.visit(
    new URL(formAction(page.html, fragment), page.url).href,
    { form: { _csrf: hiddenField(page.html, '_csrf'), ...fields } },
    stopAt,
  );
}

/** Submits a form whose action cannot be undone: the confirmation page first, then its red button. */
export async function submitConfirmed(
  browser: Browser,
  page: Page,
  fragment: string,
  fields: Record<string, string> = {},
): Promise<Page> {
  const confirm = await submit(browser, page, fragment, fields);
  if (!confirm.html.includes('name="confirmed" value="yes"'))
    throw new Error(`no confirmation page: ${confirm.status} ${confirm.html.slice(0, 300)}`);
  return submit(browser, confirm, fragment, { ...fields, confirmed: 'yes' });
}
