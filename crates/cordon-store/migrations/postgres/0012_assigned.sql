-- The tasks a person holds, on every incident: an assignee outside the team works them.
CREATE INDEX tasks_by_assignee ON tasks (assignee) WHERE assignee IS NOT NULL;
CREATE INDEX follow_up_tasks_by_assignee ON follow_up_tasks (assignee) WHERE assignee IS NOT NULL;
