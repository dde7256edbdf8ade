-- "This is wrong" (issue 16): a person's request that the department which published one of their
-- verified attributes correct it. Open until that department answers; at most one open request
-- per person and type.
CREATE TABLE attribute_corrections (
  id bigserial PRIMARY KEY,
  holder_id text NOT NULL,
  type_code text NOT NULL,
  source_client_id text NOT NULL,
  message text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  answer text,
  answered_at timestamptz
);
CREATE UNIQUE INDEX attribute_corrections_open ON attribute_corrections (holder_id, type_code)
  WHERE answered_at IS NULL;
CREATE INDEX attribute_corrections_source ON attribute_corrections (source_client_id, answered_at);
