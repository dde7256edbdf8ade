// Run by `npm install` (postinstall). oidc-provider 9.13.3 gives every request's context its
// `oidc` as an accessor with a closure of its own. V8 keeps an accessor's getter pair in the old
// generation, so each request's pair outlives the request until the next full collection, and a
// young-generation collection keeps everything the getter can reach: the whole request. On one
// core that made every scavenge copy 7-11 MB (12-20 ms) instead of almost nothing (0.2 ms);
// bench/RESULTS.md, sixth pass. The fix makes it a data property, built when the route starts
// (every route of the engine reads it). Plain JavaScript: npm may run this on an older Node.
// `node bin/patch-engine.mjs [file]`: the engine's own file unless another is named (tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const file =
  process.argv[2] ??
  fileURLToPath(new URL('../node_modules/oidc-provider/lib/helpers/initialize_app.js', import.meta.url));
const lazy = `    let oidcCtx;
    Object.defineProperty(ctx, 'oidc', {
      get: () => {
        oidcCtx ||= new this.OIDCContext(ctx);
        return oidcCtx;
      },
    });
`;
const eager = `    Object.defineProperty(ctx, 'oidc', { value: new this.OIDCContext(ctx) }); // yitong: bin/patch-engine.mjs
`;

const source = readFileSync(file, 'utf8');
if (!source.includes(eager)) {
  if (!source.includes(lazy)) {
    process.stderr.write(
      `bin/patch-engine.mjs: ${file} is not the oidc-provider 9.13.3 it patches; ` +
        'check whether the new version still defines ctx.oidc per request, then update or drop this patch\n',
    );
    process.exit(1);
  }
  writeFileSync(file, source.replace(lazy, eager));
}
