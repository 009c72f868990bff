-- An incident's history (the war room's activity, issue 15) is read from the audit log by
-- subject: the incident's own and its items'. This index makes that a lookup per subject
-- rather than a scan of every incident's entries.
CREATE INDEX audit_log_by_subject ON audit_log (subject, seq);
