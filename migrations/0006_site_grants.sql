-- Which grants (and session ids) a person holds at each site, so that "revoke" on their page
-- can end the grant, its tokens and the site's session (back-channel logout).
CREATE TABLE site_grants (
  grant_id     text PRIMARY KEY,
  person_id    text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  client_id    text NOT NULL,
  sid          text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX site_grants_person ON site_grants (person_id, client_id);
