//! The implementation of [`OidcStore`]. What must happen once is decided by the database: the
//! primary key of `oidc_subjects` refuses a second link of one subject (two nodes provisioning
//! the same first sign-in), and a pending sign-in is taken by the one `DELETE` that removes it.

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::clock::to_micros;
use cordon_core::user::User;

use super::{SqlStore, append_in, insert_user};
use crate::dialect::{Backend, Cols, sql};
use crate::error::conflict_on_unique;
use crate::oidc::{EXPIRED_PENDING_PER_CALL, OidcLink, OidcPending, OidcStore, SignInSwitch};
use crate::{AuditDraft, Result};

fn link_from_row(r: &impl Cols) -> Result<OidcLink> {
    Ok(OidcLink {
        issuer: r.text("issuer")?,
        subject: r.text("subject")?,
        user_id: r.uuid("user_id")?,
        linked_at: r.time("linked_at")?,
        last_sign_in_at: r.time("last_sign_in_at")?,
    })
}

#[async_trait]
impl<B: Backend> OidcStore for SqlStore<B> {
    async fn oidc_link(&self, issuer: &str, subject: &str) -> Result<Option<OidcLink>> {
        sql(
            "SELECT issuer, subject, user_id, linked_at, last_sign_in_at FROM oidc_subjects
             WHERE issuer = $1 AND subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .map_optional(&mut *self.read().await?, link_from_row)
        .await
    }

    async fn create_oidc_user(&self, user: &User, link: &OidcLink, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_user(&mut *tx, user).await?;
        sql(
            "INSERT INTO oidc_subjects (issuer, subject, user_id, linked_at, last_sign_in_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&link.issuer)
        .bind(&link.subject)
        .bind(link.user_id)
        .bind(to_micros(link.linked_at))
        .bind(to_micros(link.last_sign_in_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("oidc subject"))?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_oidc_sign_in(
        &self,
        issuer: &str,
        subject: &str,
        at: Timestamp,
        groups: Option<&[String]>,
        audit: Option<AuditDraft>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let user = sql("UPDATE oidc_subjects SET last_sign_in_at = $3
                        WHERE issuer = $1 AND subject = $2 RETURNING user_id")
        .bind(issuer)
        .bind(subject)
        .bind(to_micros(at))
        .map_optional(&mut *tx, |r| r.uuid("user_id"))
        .await?
        .ok_or(crate::StoreError::NotFound("oidc subject"))?;
        if let Some(groups) = groups {
            let mut groups = groups.to_vec();
            groups.sort();
            groups.dedup();
            sql("DELETE FROM user_groups WHERE user_id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await?;
            for g in &groups {
                sql("INSERT INTO user_groups (user_id, group_name) VALUES ($1, $2)")
                    .bind(user)
                    .bind(g)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if let Some(audit) = audit {
            append_in(&mut *tx, &audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_oidc_pending(&self, p: &OidcPending, now: Timestamp) -> Result<()> {
        let mut conn = self.writer.acquire().await?;
        sql("DELETE FROM oidc_pending WHERE state_hash IN
             (SELECT state_hash FROM oidc_pending WHERE expires_at <= $1 LIMIT $2)")
        .bind(to_micros(now))
        .bind(EXPIRED_PENDING_PER_CALL)
        .execute(&mut *conn)
        .await?;
        sql(
            "INSERT INTO oidc_pending (state_hash, nonce, pkce_verifier, next, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.state_hash[..])
        .bind(&p.nonce)
        .bind(&p.pkce_verifier)
        .bind(&p.next)
        .bind(to_micros(p.created_at))
        .bind(to_micros(p.expires_at))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn take_oidc_pending(&self, state_hash: &[u8; 32], now: Timestamp) -> Result<Option<OidcPending>> {
        let row = sql("DELETE FROM oidc_pending WHERE state_hash = $1
                       RETURNING nonce, pkce_verifier, next, created_at, expires_at")
        .bind(&state_hash[..])
        .map_optional(&mut *self.writer.acquire().await?, |r| {
            Ok(OidcPending {
                state_hash: *state_hash,
                nonce: r.text("nonce")?,
                pkce_verifier: r.text("pkce_verifier")?,
                next: r.text("next")?,
                created_at: r.time("created_at")?,
                expires_at: r.time("expires_at")?,
            })
        })
        .await?;
        Ok(row.filter(|p| p.expires_at > now))
    }

    async fn sign_in_switch(&self, method: &str) -> Result<Option<SignInSwitch>> {
        sql("SELECT method, enabled, changed_at, changed_by FROM sign_in_switches WHERE method = $1")
            .bind(method)
            .map_optional(&mut *self.read().await?, |r| {
                Ok(SignInSwitch {
                    method: r.text("method")?,
                    enabled: r.flag("enabled")?,
                    changed_at: r.time("changed_at")?,
                    changed_by: r.text("changed_by")?,
                })
            })
            .await
    }

    async fn set_sign_in_switch(&self, s: &SignInSwitch, audit: AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        let changed = sql("INSERT INTO sign_in_switches (method, enabled, changed_at, changed_by)
                           VALUES ($1, $2, $3, $4)
                           ON CONFLICT (method) DO UPDATE
                           SET enabled = excluded.enabled, changed_at = excluded.changed_at,
                               changed_by = excluded.changed_by
                           WHERE sign_in_switches.enabled <> excluded.enabled")
        .bind(&s.method)
        .bind(s.enabled)
        .bind(to_micros(s.changed_at))
        .bind(&s.changed_by)
        .execute(&mut *tx)
        .await?;
        if changed == 0 {
            return Ok(false);
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
