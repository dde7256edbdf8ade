-- People: one account per resident identity number. `id` is the stable, opaque `sub`.
CREATE TABLE people (
  id               text PRIMARY KEY,
  id_number_hmac   bytea NOT NULL UNIQUE,
  id_number_enc    bytea NOT NULL,
  id_number_masked text NOT NULL,
  name             text NOT NULL,
  gender           text NOT NULL CHECK (gender IN ('male', 'female')),
  birthdate        date NOT NULL,
  phone            text,
  password_hash    text,
  identity_level   smallint NOT NULL DEFAULT 1 CHECK (identity_level BETWEEN 1 AND 3),
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'deleted')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- What a person consented to release to a site; outlives sign-in sessions so the next
-- sign-in to the same site does not ask again unless new scopes are requested.
CREATE TABLE consents (
  person_id  text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  client_id  text NOT NULL,
  scopes     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (person_id, client_id)
);

-- Departmental sites. `metadata` is RFC 7591 client metadata; the secret is kept only as a hash.
CREATE TABLE clients (
  id          text PRIMARY KEY,
  department  text NOT NULL,
  region_code char(6) NOT NULL,
  metadata    jsonb NOT NULL,
  secret_hash text,
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Token signing keys, private parts encrypted with the data-encryption key. Newest signs.
CREATE TABLE signing_keys (
  kid         text PRIMARY KEY,
  alg         text NOT NULL,
  private_enc bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- oidc-provider artifacts (sessions, codes, tokens, grants …) when Redis is not configured.
CREATE TABLE oidc_artifacts (
  model      text NOT NULL,
  id         text NOT NULL,
  payload    jsonb NOT NULL,
  grant_id   text,
  uid        text,
  user_code  text,
  expires_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_artifacts_grant_id ON oidc_artifacts (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_artifacts_uid ON oidc_artifacts (uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_artifacts_user_code ON oidc_artifacts (user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_artifacts_expires_at ON oidc_artifacts (expires_at);

-- Fixed-window counters for rate limits when Redis is not configured.
CREATE TABLE rate_counters (
  key        text PRIMARY KEY,
  hits       integer NOT NULL,
  expires_at timestamptz NOT NULL
);
