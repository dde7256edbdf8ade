-- When the person ended the session from their page. The provider's copy is destroyed then, but
-- a request already under way can save it again: sign-ins of that session up to this moment
-- (and tokens issued through them) stay worthless. `ended_at` only says the session is over for
-- the list; it is also set when the provider no longer has the session, and cleared if it is seen.
ALTER TABLE sign_in_sessions ADD COLUMN revoked_at timestamptz;
