-- Upstream identity providers (issue 17), as `yitong upstreams sync` stored them: the manifest
-- without its secret, and the secret (client secret or private key) sealed with the data key.
CREATE TABLE upstreams (
  id text PRIMARY KEY,
  manifest jsonb NOT NULL,
  secret_enc bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
