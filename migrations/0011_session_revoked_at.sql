-- When the person ended the session from their page (replaces 0010's list of uids). The provider's
-- copy is destroyed then, but a request already under way can save it again: sign-ins of that
-- session up to this moment (and tokens issued through them) stay worthless. `ended_at` only says
-- the session is over for the list; it is also set when the provider no longer has the session.
ALTER TABLE sign_in_sessions ADD COLUMN IF NOT EXISTS revoked_at timestamptz;
ALTER TABLE people DROP COLUMN IF EXISTS ended_sessions;
