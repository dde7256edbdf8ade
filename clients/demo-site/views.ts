/**
 * HTML for the demo departmental site: plain template strings with every value escaped,
 * no scripts and no external resources (the stylesheet is served by the site itself).
 *
 * @example
 *   ctx.body = homePage({ title: '省税务局（演示）', person: personView(sub, claims) });
 */

export interface PersonView {
  name?: string;
  sub: string;
  identityLevel?: string;
  phone?: string;
  acr?: string;
  amr?: string[];
}

/** Picks what the home page shows from the ID token and userinfo claims, ignoring malformed values. */
export function personView(sub: string, claims: Record<string, unknown>): PersonView {
  const { name, identity_level, phone_number, acr, amr } = claims;
  return {
    sub,
    ...optional('name', text(name)),
    ...optional('identityLevel', text(identity_level)),
    ...optional('phone', text(phone_number)),
    ...optional('acr', text(acr)),
    ...optional('amr', Array.isArray(amr) ? amr.map(String) : undefined),
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export function homePage(view: { title: string; person: PersonView | undefined }): string {
  const body = view.person ? signedIn(view.person) : signedOut();
  return layout(view.title, body);
}

export function errorPage(view: { title: string; heading: string; detail: string; code?: string }): string {
  const code = view.code
    ? `<p class="muted">错误代码 / Error code: <code>${escapeHtml(view.code)}</code></p>`
    : '';
  return layout(
    view.title,
    `<section class="card" role="alert">
      <h2>${escapeHtml(view.heading)}</h2>
      <p>${escapeHtml(view.detail)}</p>
      ${code}
      <p><a class="button" href="/">返回首页 / Back to home</a></p>
    </section>`,
  );
}

function signedIn(person: PersonView): string {
  const rows: Array<[string, string | undefined]> = [
    ['姓名 / Name', person.name],
    ['用户标识 / Subject (sub)', person.sub],
    ['实名等级 / Identity level', person.identityLevel],
    ['手机号码 / Phone', person.phone],
    ['认证强度 / Authentication (acr)', person.acr],
    ['认证方式 / Methods (amr)', person.amr?.join(', ')],
  ];
  const details = rows
    .filter((row): row is [string, string] => row[1] !== undefined && row[1] !== '')
    .map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('');
  return `<section class="card" aria-labelledby="welcome">
      <h2 id="welcome">您好，${escapeHtml(person.name ?? person.sub)}</h2>
      <p>您已通过一通账号登录本站。 / You are signed in with Yitong.</p>
      <dl>${details}</dl>
      <form method="post" action="/logout">
        <button type="submit">退出登录 / Sign out</button>
      </form>
    </section>`;
}

function signedOut(): string {
  return `<section class="card" aria-labelledby="signin">
      <h2 id="signin">尚未登录 / Not signed in</h2>
      <p>使用一通账号即可办理本部门的在线业务。 / Use your Yitong account to access this department's services.</p>
      <p><a class="button" href="/login">使用一通账号登录 / Sign in with Yitong</a></p>
    </section>`;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <link rel="stylesheet" href="/style.css">
</head>
<body>
  <header><h1>${escapeHtml(title)}</h1><p class="muted">一通单点登录演示站点 / Yitong single sign-on demo site</p></header>
  <main>${body}</main>
</body>
</html>`;
}

export const STYLESHEET = `
body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; background: #f4f6f8; color: #1d2733; line-height: 1.6; }
header { background: #0b5394; color: #fff; padding: 1rem; }
header h1 { margin: 0; font-size: 1.4rem; }
header .muted { color: #d6e4f2; margin: 0; }
main { max-width: 40rem; margin: 1rem auto; padding: 0 1rem; }
.card { background: #fff; border-radius: 8px; padding: 1rem 1.25rem; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.12); }
.muted { color: #5a6673; font-size: 0.9rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; word-break: break-all; }
.button, button { display: inline-block; background: #0b5394; color: #fff; border: 0; border-radius: 6px; padding: 0.6rem 1rem; font-size: 1rem; text-decoration: none; cursor: pointer; }
.button:focus, button:focus { outline: 3px solid #f1c232; outline-offset: 2px; }
@media (max-width: 30rem) { dl { grid-template-columns: 1fr; } }
`;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}
