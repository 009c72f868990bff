-- PostgreSQL twin of `migrations/sqlite/0012_comms_lint_override.sql`: the incident
-- commander's override of a communication's error findings, as JSON the service writes.
ALTER TABLE communications ADD COLUMN lint_override text;
