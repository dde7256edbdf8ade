-- Every node keeps the sites it serves for a while and publishes the PS256 keys while a site uses
-- them (src/oidc/keys.ts): a change to a site is told to all of them on the channel of
-- db/changes.ts, whichever code, console or SQL made it, as a change to a person is (0018).
CREATE FUNCTION notify_client_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('yitong_changes',
    json_build_object('kind', 'client', 'id', COALESCE(NEW.id, OLD.id))::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION notify_client_change();
