-- A PS256 key is in the JWKS only while a site has tokens signed PS256, and for an ID token's
-- lifetime after the last one stopped (src/oidc/keys.ts): `published_until` says until when,
-- 'infinity' while a site needs it, NULL while none has since the key was made. Other keys are
-- always published.
ALTER TABLE signing_keys ADD COLUMN published_until timestamptz;
