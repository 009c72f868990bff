-- A communication sent or approved despite error findings of the linter (issue 13, finding 1):
-- the incident commander's override as JSON the service writes (`reason`, `by`, `at`, and the
-- findings it covers). NULL: no override; an edit of the text clears it.
ALTER TABLE communications ADD COLUMN lint_override TEXT;
