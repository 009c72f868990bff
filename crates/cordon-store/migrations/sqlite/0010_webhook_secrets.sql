-- Issue 12: each webhook contact signs its deliveries with its own secret (not the Slack
-- signing secret). The secret is kept sealed (XChaCha20-Poly1305 under the deployment's key,
-- bound to the contact's id), never in clear; NULL for other kinds and for webhooks added
-- before this migration, which deliver nothing until their secret is rotated.
ALTER TABLE contact_methods ADD COLUMN secret_sealed BLOB;
