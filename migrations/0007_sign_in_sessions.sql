-- A person's sign-in sessions as their page lists them ("where am I signed in"): one row per
-- provider session, keyed by its stable uid. Only what the person needs to recognise it is kept:
-- the browser and system, the network with the host part hidden, the area. `auth_time` is
-- the session's latest sign-in: one before a "sign out everywhere" no longer counts.
CREATE TABLE sign_in_sessions (
  person_id      text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  uid            text NOT NULL,
  device         text NOT NULL,
  network        text NOT NULL,
  area           text,
  started_at     timestamptz NOT NULL DEFAULT now(),
  auth_time      timestamptz NOT NULL,
  last_active_at timestamptz NOT NULL DEFAULT now(),
  ended_at       timestamptz,
  PRIMARY KEY (person_id, uid)
);
CREATE INDEX sign_in_sessions_recent ON sign_in_sessions (person_id, last_active_at DESC);

-- Which session each site grant came from: ending one session ends the sites it covers.
ALTER TABLE site_grants ADD COLUMN session_uid text;
