-- The items of the example resource. IDs are compared byte-wise (utf8mb4_bin)
-- so that keyset paging orders them exactly as the service and its other
-- repositories do, whatever the server's default collation. Timestamps are UTC
-- (every connection sets time_zone '+00:00'), to the microsecond.
CREATE TABLE items (
    id         VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    name       VARCHAR(200) NOT NULL CHECK (CHAR_LENGTH(name) BETWEEN 1 AND 200),
    price      BIGINT       NOT NULL CHECK (price >= 0),
    created_at DATETIME(6)  NOT NULL,
    updated_at DATETIME(6)  NOT NULL
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
