-- A rotated signing key is published in the JWKS before it signs (src/oidc/keys.ts): it signs
-- from `signs_from`, so relying parties that cache the JWKS have it before any token names it.
-- The keys already stored signed from their creation, as before.
ALTER TABLE signing_keys ADD COLUMN signs_from timestamptz;
UPDATE signing_keys SET signs_from = created_at;
ALTER TABLE signing_keys ALTER COLUMN signs_from SET NOT NULL;
ALTER TABLE signing_keys ALTER COLUMN signs_from SET DEFAULT now();
