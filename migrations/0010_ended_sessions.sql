-- The latest sessions the person ended from their page (their uids, newest last, at most 20): a
-- request already under way when a session is ended can save it again, so the provider's
-- copy alone cannot be trusted to be gone. A session lives 12 hours at most, so the latest 20
-- are plenty; the list is read with the person, at no extra cost on the sign-on hop.
ALTER TABLE people ADD COLUMN ended_sessions text[] NOT NULL DEFAULT '{}';
