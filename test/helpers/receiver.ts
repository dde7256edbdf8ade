/**
 * A local HTTP endpoint that keeps what it receives: a site's back-channel logout URI, or the
 * notifier's webhook. Closed when the test (or, with `after`, the file) ends.
 *
 * @example
 *   const site = await receiver(t.teardown);
 *   // … register a client with backchannel_logout_uri: site.url …
 *   site.received.map((r) => r.form.get('logout_token'));
 */
import { createServer } from 'node:http';

export interface Received {
  body: string;
  /** The body as a form (back-channel logout posts `logout_token=…`). */
  form: URLSearchParams;
  authorization: string | undefined;
}

/**
 * The province's messaging service as Yitong's notifier sees it (`NOTIFIER_URL`): a real HTTP
 * server, for a whole test file; `messages()` are what was sent, parsed.
 */
export async function messageWebhook() {
  let close = () => {};
  const webhook = await receiver((closeServer) => {
    close = closeServer;
  }, '/notify');
  return {
    url: webhook.url,
    messages: () => webhook.received.map((message) => JSON.parse(message.body) as Record<string, string>),
    close: () => close(),
  };
}

/** An endpoint that keeps what it receives; with `hang`, one that never answers (a site that is down). */
export async function receiver(
  closeWhenDone: (close: () => void) => void,
  path = '/',
  { hang = false } = {},
) {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push({ body, form: new URLSearchParams(body), authorization: req.headers.authorization });
    if (!hang) res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeWhenDone(() => server.close());
  const { port } = server.address() as { port: number };
  return { url: `http://localhost:${port}${path}`, received };
}
