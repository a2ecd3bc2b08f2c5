-- Rolls back 0001_create_items: the items and everything stored in them are gone.
DROP TABLE items;
