-- What a department may register through dynamic client registration (RFC 7591) with one
-- initial access token: its region and the scopes its sites may list. `token_id` is the
-- provider's id of the initial access token (the token itself lives with the OIDC artifacts).
CREATE TABLE registration_grants (
  token_id    text PRIMARY KEY,
  department  text NOT NULL,
  region_code char(6) NOT NULL,
  scopes      text NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
