/**
 * HTTP as fetch() will not send it (an absolute-form target, a Host that is no host, HTTP/1.0
 * without one): the request's bytes as given, and everything the server sent until it closed.
 *
 * @example
 *   const answer = await rawHttp(port, 'GET /auth HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n');
 *   // 'HTTP/1.1 400 Bad Request\r\n…'
 */
import { once } from 'node:events';
import { connect } from 'node:net';

export async function rawHttp(port: number | string, request: string): Promise<string> {
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(request); // not end(): the server would take the half-close for a hang-up
  let text = '';
  for await (const chunk of socket) text += chunk;
  return text;
}
