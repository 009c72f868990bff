-- Logs as evidence: a timeline source's raw bytes are also kept as an evidence item, so every
-- event's provenance (source, byte offset) leads to write-once, digested bytes.
ALTER TABLE timeline_sources ADD COLUMN evidence_id uuid;
