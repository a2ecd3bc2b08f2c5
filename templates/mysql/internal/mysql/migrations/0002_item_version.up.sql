-- Every item carries a version: 1 when created, one more with every change. It is
-- the item's ETag, and updates and deletes check it (optimistic concurrency).
-- Items that exist before this migration start at version 1.
ALTER TABLE items ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1);
