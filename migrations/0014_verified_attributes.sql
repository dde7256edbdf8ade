-- Verified attributes (issue 16): what a source department published about a person (people.id)
-- or an entity (legal_persons.id), one value per holder and type (attributes/*.json), with when
-- and how it was verified. A withdrawn value stays (withdrawn_at) until retention removes it, so
-- the ledger can still say what was released before.
CREATE TABLE attributes (
  holder_id text NOT NULL,
  type_code text NOT NULL,
  value jsonb NOT NULL,
  verified_at timestamptz NOT NULL,
  valid_until timestamptz,
  evidence jsonb NOT NULL,
  source_client_id text NOT NULL,
  withdrawn_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (holder_id, type_code)
);
CREATE INDEX attributes_source ON attributes (source_client_id, type_code);
