-- A fapi2 site's PAR and DPoP requirements are derived from its profile when the site is loaded
-- (src/oidc/client-adapter.ts), however it was registered. Stored copies made an edit of the
-- site in the console fail the manifest's rules, so they go.
UPDATE clients
SET metadata = metadata - 'require_pushed_authorization_requests' - 'dpop_bound_access_tokens'
WHERE metadata->>'profile' = 'fapi2';
