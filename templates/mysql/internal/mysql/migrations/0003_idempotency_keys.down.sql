-- Rolls back 0003_idempotency_keys: retried creates are no longer recognised.
DROP TABLE idempotency_keys;
