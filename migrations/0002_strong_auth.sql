-- Passkeys (WebAuthn credentials). `id` is the credential id (base64url), unique across everyone.
CREATE TABLE passkeys (
  id           text PRIMARY KEY,
  person_id    text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  name         text NOT NULL,
  public_key   bytea NOT NULL,
  counter      bigint NOT NULL DEFAULT 0,
  transports   text NOT NULL DEFAULT '',
  backed_up    boolean NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE INDEX passkeys_person_id ON passkeys (person_id);

-- One TOTP authenticator per person. `last_step` is the last 30-second step used: a code is
-- accepted once only.
CREATE TABLE totp_factors (
  person_id  text PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
  secret_enc bytea NOT NULL,
  last_step  bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One-time recovery codes, kept only as keyed HMACs.
CREATE TABLE recovery_codes (
  person_id text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  code_hmac bytea NOT NULL,
  used_at   timestamptz,
  PRIMARY KEY (person_id, code_hmac)
);

-- Counter staff of a service hall: they confirm people face to face (identity level 3).
CREATE TABLE staff (
  person_id   text PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
  hall        text NOT NULL,
  region_code char(6) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Short-lived single-use values (WebAuthn challenges, half-finished sign-ins) when Redis is not configured.
CREATE TABLE ephemeral (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX ephemeral_expires_at ON ephemeral (expires_at);

-- Append-only audit trail: each row carries the SHA-256 of the previous row, so an edit or a
-- deletion breaks the chain.
CREATE TABLE audit_events (
  seq       bigserial PRIMARY KEY,
  at        timestamptz NOT NULL,
  actor     text NOT NULL,
  action    text NOT NULL,
  subject   text,
  ip        text,
  details   jsonb NOT NULL DEFAULT '{}',
  prev_hash bytea,
  hash      bytea NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events (subject, seq);
