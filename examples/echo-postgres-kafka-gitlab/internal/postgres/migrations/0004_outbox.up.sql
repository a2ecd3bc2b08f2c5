-- The transactional outbox: every item change inserts its event here in the same
-- transaction, and the relay publishes the rows in seq order and deletes them once
-- the broker has acknowledged them. seq orders one item's events as their changes
-- committed (changes of one item are serialised by its row lock).
CREATE TABLE outbox (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    item_id      text COLLATE "C" NOT NULL,
    item_version bigint      NOT NULL,
    occurred_at  timestamptz NOT NULL,
    traceparent  text        NOT NULL DEFAULT '',
    data         json        NOT NULL
);

-- The relay's test for an earlier pending event of the same item.
CREATE INDEX outbox_item_seq ON outbox (item_id, seq);
