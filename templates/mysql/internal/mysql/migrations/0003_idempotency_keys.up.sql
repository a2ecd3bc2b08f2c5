-- Idempotency-Key of item creates: the key, the SHA-256 of the first request's
-- body and the item it created (as it was answered), written in the create's own
-- transaction. A retry with the same key and body is answered from here; rows are
-- pruned after expires_at. One statement, index included: MySQL commits every
-- DDL statement on its own, so a migration of one statement applies whole or not.
CREATE TABLE idempotency_keys (
    idempotency_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    request_hash    VARBINARY(32) NOT NULL,
    item_id         VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    response        LONGTEXT     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (JSON_VALID(response)),
    created_at      DATETIME(6)  NOT NULL,
    expires_at      DATETIME(6)  NOT NULL,
    INDEX idempotency_keys_expires_at (expires_at)
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
