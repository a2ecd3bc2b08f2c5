-- Rolls back 0004_outbox: events not yet published are lost with the table.
DROP TABLE outbox;
