// Run by `npm install` (postinstall): three changes to oidc-provider 9.13.3, each with its reason.
// Plain JavaScript: npm may run this on an older Node.
// `node bin/patch-engine.mjs [root]`: the engine's own folder unless another is named (tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PATCHES = [
  {
    // The engine gave every request's context its `oidc` as an accessor with a closure of its
    // own. V8 keeps an accessor's getter pair in the old generation, so each request's pair
    // outlives the request until the next full collection, and a young-generation collection
    // keeps everything the getter can reach: the whole request. On one core that made every
    // scavenge copy 7-11 MB (12-20 ms) instead of almost nothing (0.2 ms); bench/RESULTS.md,
    // sixth pass. A data property, built when the route starts (every route reads it).
    file: 'lib/helpers/initialize_app.js',
    from: `    let oidcCtx;
    Object.defineProperty(ctx, 'oidc', {
      get: () => {
        oidcCtx ||= new this.OIDCContext(ctx);
        return oidcCtx;
      },
    });
`,
    to: `    Object.defineProperty(ctx, 'oidc', { value: new this.OIDCContext(ctx) }); // yitong: bin/patch-engine.mjs
`,
  },
  {
    // A DPoP proof is accepted while its iat is within 300 s of now, either way, but its jti was
    // remembered for 300 s from its first use: a proof dated ahead could be replayed once that
    // record expired, for as long as it was dated ahead (RFC 9449, 11.1). Remembered until the
    // proof itself expires.
    file: 'lib/helpers/validate_dpop.js',
    from: `    dPoP.jti,
    epochTime() + CHALLENGE_OK_WINDOW,
`,
    to: `    dPoP.jti,
    Math.max(epochTime(), dPoP.iat) + CHALLENGE_OK_WINDOW, // yitong: bin/patch-engine.mjs
`,
  },
  {
    // A client's jwks_uri that answered an error (a 500 with a JSON body) was kept as fresh for
    // 60 s before its status was looked at: the site's every request was refused for a minute
    // after its jwks_uri recovered. Fresh for 60 s only once the keys were read; after a failure
    // of any kind, not read again for 5 s (the engine read a failing one at every request: some
    // 150-250 reads a second for anyone sending junk client assertions).
    file: 'lib/models/client.js',
    from: `          this.freshUntil = Math.max(...freshUntil.filter(Boolean));

          if (status !== 200) {
            throw new Error(\`unexpected jwks_uri response status code, expected 200 OK, got \${status} \${STATUS_CODES[status]}\`, { cause: response });
          }

          validateJWKS(body);

          this.clear();
          body.keys
            .map(checkJWK)
            .filter(Boolean)
            .forEach(ClientKeyStore.prototype.add.bind(this));

          delete this.lock;
        })().catch((cause) => {
          delete this.lock;
          throw new InvalidClientMetadata('client JSON Web Key Set failed to be refreshed', { cause });
`,
    to: `          if (status !== 200) {
            throw new Error(\`unexpected jwks_uri response status code, expected 200 OK, got \${status} \${STATUS_CODES[status]}\`, { cause: response });
          }

          validateJWKS(body);

          this.clear();
          body.keys
            .map(checkJWK)
            .filter(Boolean)
            .forEach(ClientKeyStore.prototype.add.bind(this));

          this.freshUntil = Math.max(...freshUntil.filter(Boolean)); // yitong: bin/patch-engine.mjs
          delete this.lock;
        })().catch((cause) => {
          delete this.lock;
          this.freshUntil = epochTime() + 5; // yitong: bin/patch-engine.mjs
          throw new InvalidClientMetadata('client JSON Web Key Set failed to be refreshed', { cause });
`,
  },
];

const root = process.argv[2] ?? fileURLToPath(new URL('../node_modules/oidc-provider', import.meta.url));
const patched = PATCHES.map(({ file, from, to }) => {
  const path = join(root, file);
  const source = readFileSync(path, 'utf8');
  if (source.includes(to)) return undefined;
  if (!source.includes(from)) {
    process.stderr.write(
      `bin/patch-engine.mjs: ${path} is not the oidc-provider 9.13.3 it patches; ` +
        'check whether the new version still needs this patch, then update or drop it\n',
    );
    process.exit(1);
  }
  return { path, text: source.replace(from, to) };
});
// Both or neither: every file is checked before one is written.
for (const change of patched) if (change) writeFileSync(change.path, change.text);
