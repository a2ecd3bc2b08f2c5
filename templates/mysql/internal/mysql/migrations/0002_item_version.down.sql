-- Rolls back 0002_item_version: items lose their versions (and ETags).
ALTER TABLE items DROP COLUMN version;
