-- A node loads its signing keys again when a site starts or stops needing the PS256 ones (in the
-- JWKS while an enabled site has tokens signed PS256: src/oidc/key-publication.ts), not on every
-- change to a site: the NOTIFY of 0022 says `"signing": true` only then. The fields are
-- SIGNED_RESPONSE_FIELDS of src/clients/manifest.ts.
CREATE FUNCTION signs_ps256(site clients) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(site.enabled AND 'PS256' IN (site.metadata->>'id_token_signed_response_alg',
                                                site.metadata->>'userinfo_signed_response_alg'), false)
$$;

CREATE OR REPLACE FUNCTION notify_client_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('yitong_changes', json_build_object('kind', 'client', 'id', COALESCE(NEW.id, OLD.id),
    'signing', signs_ps256(OLD) IS DISTINCT FROM signs_ps256(NEW))::text);
  RETURN NULL;
END
$$;
