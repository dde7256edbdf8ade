/** `yitong keys …`: the token signing keys, rotated in stages, listed, retired. */
import {
  ALGORITHMS,
  JWKS_MAX_AGE_SECONDS,
  type KeyInfo,
  listSigningKeys,
  PUBLICATION_DELAY_SECONDS,
  retireSigningKey,
  rotateSigningKeys,
  type StoredKind,
  VERIFIES_FOR_SECONDS,
} from '../oidc/keys.ts';
import type { Commands, Format } from './command.ts';
import { print } from './command.ts';

const HOURS = (seconds: number) => `${seconds / 3600} h`;

/** A JWK thumbprint (RFC 7638, SHA-256): what `keys rotate` and `keys list` print as a kid. */
const kid: Format = (value) =>
  /^[\w-]{43}$/.test(value)
    ? undefined
    : `must be a kid as \`yitong keys list\` prints it: 43 letters, digits, - and _ (got "${value}")`;

const kindWords = (kind: StoredKind) => `${kind}${kind === ALGORITHMS[kind] ? '' : ` (${ALGORITHMS[kind]})`}`;

export const keyCommands: Commands = {
  'keys rotate': {
    usage: 'yitong keys rotate [--now]',
    summary: `Add a new signing key of each kind (ES256, RS256, PS256). They are in the JWKS at once (PS256 while an enabled site signs PS256) and begin signing ${HOURS(PUBLICATION_DELAY_SECONDS)} later on every node, so sites that cache the JWKS have them first; the old ones stay for verification until retired. --now: they sign within a second (a compromised key), and sites that cache the JWKS without refetching it on an unknown kid fail until their cache expires.`,
    options: { now: { type: 'boolean' } },
    async run(container, values) {
      const now = Boolean(values.now);
      const rotation = await rotateSigningKeys(container.database.db, container.sealer, {
        ...(now && { delaySeconds: 0 }),
      });
      for (const { kind, kid } of rotation.added) print(`new signing key ${kindWords(kind)}: ${kid}`);
      for (const kid of rotation.withdrawn) print(`withdrawn, replaced before it began signing: ${kid}`);
      print(
        now
          ? `in the JWKS and signing now, on every node within a second; sites that cache the JWKS and do not refetch it on an unknown kid fail until their cache expires (${JWKS_MAX_AGE_SECONDS} s if they obey Cache-Control)`
          : `in the JWKS now (PS256 while an enabled site signs PS256); they begin signing at ${rotation.signsFrom.toISOString()} (in ${HOURS(PUBLICATION_DELAY_SECONDS)}), on every node`,
      );
      print('retire the old keys once they are no longer needed: yitong keys list, yitong keys retire <kid>');
    },
  },
  'keys list': {
    usage: 'yitong keys list',
    summary: `List the signing keys: kid, kind, algorithms, when each was created and signs from, its state: next (not signing yet), signing, verifying (replaced less than ${HOURS(VERIFIES_FOR_SECONDS)} ago: tokens it signed may still be in use) or retirable, and whether it is in the JWKS (a PS256 key only while an enabled site signs PS256).`,
    async run(container) {
      const rows = (await listSigningKeys(container.database.db)).map(columns);
      const header = ['kid', 'kind', 'algorithms', 'created', 'signs from', 'state', 'in JWKS'];
      const widths = header.map((title, i) =>
        Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)),
      );
      for (const row of [header, ...rows])
        print(
          row
            .map((cell, i) => cell.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd(),
        );
    },
  },
  'keys retire': {
    usage: 'yitong keys retire <kid>',
    summary:
      'Take a signing key out of the JWKS on every node, within a second, and delete it: tokens it signed stop verifying at sites that refetch the JWKS (what a compromised key needs). Never the key that signs now: rotate first.',
    positionals: [{ name: '<kid>', format: kid }],
    async run(container, _values, [kid]) {
      const key = await retireSigningKey(container.database.db, kid as string);
      print(`retired ${kindWords(key.kind)} key ${key.kid}: out of the JWKS on every node within a second`);
      if (key.state === 'verifying')
        print(
          `it was replaced less than ${HOURS(VERIFIES_FOR_SECONDS)} ago: tokens it signed stop verifying at sites that refetch the JWKS`,
        );
    },
  },
};

function columns(key: KeyInfo): string[] {
  const until = key.replacedAt && new Date(key.replacedAt.getTime() + VERIFIES_FOR_SECONDS * 1000);
  return [
    key.kid,
    key.kind,
    ALGORITHMS[key.kind],
    key.created.toISOString(),
    key.signsFrom.toISOString(),
    key.state === 'verifying' && until ? `verifying until ${until.toISOString()}` : key.state,
    key.published ? 'yes' : 'no: no site signs PS256',
  ];
}
