-- Identity mutual trust (issue 17): a person's account at an upstream identity provider (the
-- national platform, another province), linked to their Yitong account once: by the identity
-- number the upstream asserted, and only as the linking rules allow (federation/linking.ts).
CREATE TABLE upstream_links (
  upstream_id text NOT NULL,
  upstream_sub text NOT NULL,
  person_id text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (upstream_id, upstream_sub)
);
CREATE UNIQUE INDEX upstream_links_person ON upstream_links (person_id, upstream_id);
