-- A rotated client secret keeps working for a grace period (CLIENT_SECRET_GRACE_SECONDS), so a
-- department can roll the new one out to every server of its site without an outage.
ALTER TABLE clients ADD COLUMN previous_secret_hash text;
ALTER TABLE clients ADD COLUMN previous_secret_expires_at timestamptz;
