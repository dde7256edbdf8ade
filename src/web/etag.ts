/**
 * Conditional GETs for the bytes we serve with an ETag (static files, discovery, the JWKS).
 *
 * @example
 *   if (noneMatch(ctx.get('if-none-match'), etag)) ctx.status = 304;
 */

/**
 * Whether an `If-None-Match` value matches our (strong) `etag`: `*`, or any tag of its list by
 * the weak comparison (RFC 9110 §13.1.2, §8.8.3.2). A proxy that compresses what it passes on
 * (nginx with gzip) turns `"x"` into `W/"x"`, and a cache may send every tag it holds: with
 * `===` neither was ever answered 304. No regex: discovery and the JWKS are hot paths.
 */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  // Our tags hold no comma, so splitting on commas cannot cut one of them in two.
  for (const part of header.split(',')) {
    const tag = part.trim();
    if (tag === etag || tag === '*' || (tag.startsWith('W/') && tag.slice(2) === etag)) return true;
  }
  return false;
}
