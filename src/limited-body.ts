/**
 * An answer from outside (an upstream provider, an authority) read up to a size: past it, the
 * body fails as a cut-off connection would, and nothing more of it is held in memory. A source
 * streaming gigabytes within its timeout cannot fill the process.
 *
 * @example
 *   const response = await limitedFetch(64 * 1024)(url); // response.json() fails past 64 KiB
 */
const ANSWER_LIMIT = 1024 * 1024;

class BodyTooLongError extends Error {}

function limitBody(response: Response, maxBytes = ANSWER_LIMIT): Response {
  if (!response.body) return response;
  let size = 0;
  const limited = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > maxBytes)
          controller.error(new BodyTooLongError(`the answer is longer than ${maxBytes} bytes`));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(limited, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** `fetch` whose answers are read up to `maxBytes`. */
export const limitedFetch =
  (maxBytes = ANSWER_LIMIT, fetchImpl: typeof fetch = fetch): typeof fetch =>
  async (input, init) =>
    limitBody(await fetchImpl(input, init), maxBytes);
