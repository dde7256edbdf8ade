-- Administrators bound to a GB/T 2260 region: 440000 manages 44xxxx, 440100 manages 4401xx,
-- 440106 that county only. `auditor` reads, including the audit trail; `admin` also changes.
CREATE TABLE admins (
  person_id   text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('admin', 'auditor')),
  region_code char(6) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (person_id, role, region_code)
);

-- Sessions and refresh tokens from sign-ins before this moment no longer count ("sign out everywhere").
ALTER TABLE people ADD COLUMN signed_out_at timestamptz;

CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_at ON audit_events (at);

-- The audit trail is append-only for every role, the owner included: rows can be added, never
-- changed or removed (an operator must first drop this trigger, itself a visible act).
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC;
