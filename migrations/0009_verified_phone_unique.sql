-- A mobile number belongs to the account that proved it: only proved numbers are unique. An
-- unproved number (typed at registration) no longer blocks, or tells anyone, that the number
-- is registered; proving a number takes it away from accounts that merely typed it.
DROP INDEX people_phone_unique;
CREATE UNIQUE INDEX people_proved_phone_unique ON people (phone) WHERE phone_verified_at IS NOT NULL;
-- Looking a number up (its holders when it is proved, an administrator's search) needs every holder.
CREATE INDEX people_phone ON people (phone) WHERE phone IS NOT NULL;
