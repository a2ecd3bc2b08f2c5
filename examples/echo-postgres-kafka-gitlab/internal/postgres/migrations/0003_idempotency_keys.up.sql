-- Idempotency-Key of item creates: the key, the SHA-256 of the first request's
-- body and the item it created (as it was answered), written in the create's own
-- transaction. A retry with the same key and body is answered from here; rows are
-- pruned after expires_at.
CREATE TABLE idempotency_keys (
    key          text COLLATE "C" PRIMARY KEY,
    request_hash bytea       NOT NULL,
    item_id      text        NOT NULL,
    response     json        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
