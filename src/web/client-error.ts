/**
 * Requests Node's HTTP parser refuses before any handler sees them: headers over its 16 KiB (most
 * often an authorization link carrying a large request object), a request not sent in time
 * (REQUEST_TIMEOUT_MS), bytes that are not HTTP. Node answers them with a bare status line; this
 * answers as it does, with a line in both languages saying what to do.
 *
 * @example
 *   server.on('clientError', answerClientError);
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

const SAID: Record<number, string> = {
  400: '请求不是有效的 HTTP 请求。\nThe request is not valid HTTP.\n',
  408: '请求未在规定时间内发送完毕，请重试。\nThe request was not sent in time: try again.\n',
  413: '请求的分块扩展过长。\nThe request’s chunk extensions are too long.\n',
  431:
    '请求头或链接过长（超过 16 KiB）。浏览器访问时，请清除本站的 Cookie 后重试；网站发送较长的授权请求，请改用推送授权请求（PAR，见发现文档的 pushed_authorization_request_endpoint）。\n' +
    'The request headers or link are too long (over 16 KiB). In a browser, clear this site’s cookies and try again; a site sending a long authorization request should send it by PAR (pushed_authorization_request_endpoint in the discovery document).\n',
};

const STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

export function answerClientError(error: { code?: string }, socket: Duplex): void {
  // As Node does: answer only where no response has begun on this connection, then close it.
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !answering?.headersSent) {
    const status = STATUS[error.code ?? ''] ?? 400;
    const body = SAID[status] ?? '';
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
