-- One account per mobile number: codes and reset links sent to a number reach one account.
-- (A database holding duplicates stops here: settle them first, the migration names the index.)
CREATE UNIQUE INDEX people_phone_unique ON people (phone) WHERE phone IS NOT NULL;
-- Set when the person proved the number with a code sent to it (`phone_number_verified`).
ALTER TABLE people ADD COLUMN phone_verified_at timestamptz;

-- Deletion the person asked for, carried out by `yitong accounts purge` once this date passes;
-- cancelled (set back to null) from the account page until then.
ALTER TABLE people ADD COLUMN deletion_due_at timestamptz;

-- What outlives a deleted account for the retention period: the keyed fingerprint of the
-- identity number, linking the account id in the audit trail to the number for an inquiry.
-- No name, number, phone or credential. Purged rows are removed after `retain_until`.
CREATE TABLE deleted_accounts (
  person_id      text PRIMARY KEY,
  id_number_hmac bytea NOT NULL,
  deleted_at     timestamptz NOT NULL DEFAULT now(),
  retain_until   timestamptz NOT NULL
);
CREATE INDEX deleted_accounts_hmac ON deleted_accounts (id_number_hmac);
