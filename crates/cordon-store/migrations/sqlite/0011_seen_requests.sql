-- Inbound requests remembered for as long as they could be replayed (issue 12, finding 6):
-- a signed Slack request by its signature, an Events API delivery by its event id. A key is
-- taken once while it lives; expired rows are removed as new ones arrive.
CREATE TABLE seen_requests (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);
