-- Appending to the audit trail in one round trip (src/audit/repo.ts): the lock that serialises
-- appends, the chain's head, and the rows, each hashed SHA-256(previous hash || its body), the
-- canonical body the caller made exactly as verification makes it again.
CREATE FUNCTION audit_append(events jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  previous bytea;
  next bytea;
  event jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(7243001);
  -- A statement of its own, so its snapshot comes after the lock: the head the last holder committed.
  SELECT hash INTO previous FROM audit_events ORDER BY seq DESC LIMIT 1;
  FOR event IN SELECT value FROM jsonb_array_elements(events) WITH ORDINALITY ORDER BY ordinality LOOP
    next := sha256(coalesce(previous, ''::bytea) || convert_to(event->>'body', 'UTF8'));
    INSERT INTO audit_events (at, actor, action, subject, ip, details, prev_hash, hash)
      VALUES ((event->>'at')::timestamptz, event->>'actor', event->>'action', event->>'subject',
        event->>'ip', event->'details', previous, next);
    previous := next;
  END LOOP;
END
$$;
