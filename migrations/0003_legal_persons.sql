-- Legal persons (法人): enterprises, institutions and social organisations, one account per
-- unified social credit code. `id` is the entity's own stable, opaque `sub`.
CREATE TABLE legal_persons (
  id                    text PRIMARY KEY,
  credit_code           char(18) NOT NULL UNIQUE,
  name                  text NOT NULL,
  type                  text NOT NULL CHECK (type IN ('enterprise', 'institution', 'social_organisation', 'other')),
  -- pending: registered online by someone other than a verified representative, until an admin confirms.
  status                text NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'deregistered')),
  representative_hmac   bytea NOT NULL,
  representative_masked text NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Who may act for an entity: the representative, administrators (who manage the others) and
-- agents, optionally limited to some departmental sites and until an end date (inclusive).
CREATE TABLE memberships (
  legal_person_id text NOT NULL REFERENCES legal_persons (id) ON DELETE CASCADE,
  person_id       text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  role            text NOT NULL CHECK (role IN ('representative', 'administrator', 'agent')),
  client_ids      text[],
  valid_until     date,
  granted_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (legal_person_id, person_id)
);
CREATE INDEX memberships_person_id ON memberships (person_id);

-- The entity a person chose to act for at a site, remembered until they switch.
CREATE TABLE legal_person_choices (
  person_id       text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  client_id       text NOT NULL,
  legal_person_id text NOT NULL REFERENCES legal_persons (id) ON DELETE CASCADE,
  chosen_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (person_id, client_id)
);

-- Which departmental sites an entity's people have acted for it at.
CREATE TABLE legal_person_uses (
  legal_person_id text NOT NULL REFERENCES legal_persons (id) ON DELETE CASCADE,
  client_id       text NOT NULL,
  person_id       text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  first_used_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (legal_person_id, client_id, person_id)
);
