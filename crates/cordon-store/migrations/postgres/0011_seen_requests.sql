-- Inbound requests remembered for as long as they could be replayed (issue 12, finding 6):
-- a signed Slack request by its signature, an Events API delivery by its event id. A key is
-- taken once while it lives, by whichever node inserts it first; expired rows are removed as
-- new ones arrive.
CREATE TABLE seen_requests (
    scope TEXT NOT NULL COLLATE "C",
    key TEXT NOT NULL COLLATE "C",
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);
