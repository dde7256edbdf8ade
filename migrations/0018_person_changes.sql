-- Every node keeps the people it serves for a few seconds (src/accounts/person-cache.ts): a
-- change to a person, or an ended session (revoked_at), is told to all of them on the channel of
-- db/changes.ts, whichever code or console made it.
CREATE FUNCTION notify_person_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  person text;
BEGIN
  IF TG_TABLE_NAME = 'people' THEN
    person := OLD.id;
  ELSE
    person := OLD.person_id;
  END IF;
  PERFORM pg_notify('yitong_changes', json_build_object('kind', 'person', 'id', person)::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER people_changed AFTER UPDATE OR DELETE ON people
  FOR EACH ROW EXECUTE FUNCTION notify_person_change();

CREATE TRIGGER sessions_revoked AFTER UPDATE OF revoked_at ON sign_in_sessions
  FOR EACH ROW EXECUTE FUNCTION notify_person_change();
