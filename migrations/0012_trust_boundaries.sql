-- Admin scopes (`admin`, `admin:read`) are honoured only for sites the province designated: set
-- when the operator's manifest or a province administrator lists them. Sites saved before this
-- migration are not designated until the province saves or syncs them again.
ALTER TABLE clients ADD COLUMN admin_designated boolean NOT NULL DEFAULT false;

-- A claim to represent an entity that nobody proved yet is `pending`: several people may claim
-- one credit code, none blocks the others, and each claim lapses at `claim_expires_at`. Only one
-- entity per credit code is current (active, suspended or deregistered); a proved claim
-- (business registry, administrator, counter) becomes it and displaces the pending ones.
ALTER TABLE legal_persons ADD COLUMN claim_expires_at timestamptz;
UPDATE legal_persons SET claim_expires_at = now() + interval '30 days' WHERE status = 'pending';
ALTER TABLE legal_persons DROP CONSTRAINT legal_persons_credit_code_key;
CREATE UNIQUE INDEX legal_persons_current_credit_code ON legal_persons (credit_code) WHERE status <> 'pending';
CREATE INDEX legal_persons_credit_code ON legal_persons (credit_code);
