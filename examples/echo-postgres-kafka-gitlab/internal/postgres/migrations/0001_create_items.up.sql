-- The items of the example resource. IDs are compared byte-wise (COLLATE "C") so
-- that keyset paging orders them exactly as the service and its other
-- repositories do, whatever the database's default collation.
CREATE TABLE items (
    id         text COLLATE "C" PRIMARY KEY,
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    price      bigint      NOT NULL CHECK (price >= 0),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
