//! The implementation of [`AccountStore`]. A TOTP step is taken by one conditional `UPDATE`
//! (`totp_last_step < step`), so a code is accepted once however many nodes see it; failed
//! sign-ins are rows every node counts.

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::clock::to_micros;
use uuid::Uuid;

use super::{SqlStore, append_in};
use crate::accounts::{AccountStore, LocalCredential, UserSettings};
use crate::dialect::{Backend, Cols, sql};
use crate::{AuditDraft, Result};

#[async_trait]
impl<B: Backend> AccountStore for SqlStore<B> {
    async fn local_credential(&self, user: Uuid) -> Result<Option<LocalCredential>> {
        sql(
            "SELECT password_hash, password_set_at, totp_sealed, totp_set_at, totp_last_step
             FROM local_credentials WHERE user_id = $1",
        )
        .bind(user)
        .map_optional(&mut *self.read().await?, |r| {
            Ok(LocalCredential {
                password_hash: r.opt_text("password_hash")?,
                password_set_at: r.opt_time("password_set_at")?,
                totp_sealed: r.get("totp_sealed")?,
                totp_set_at: r.opt_time("totp_set_at")?,
                totp_last_step: r.opt_int("totp_last_step")?,
            })
        })
        .await
    }

    async fn set_password_hash(&self, user: Uuid, hash: &str, at: Timestamp, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO local_credentials (user_id, password_hash, password_set_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash,
                                                 password_set_at = excluded.password_set_at",
        )
        .bind(user)
        .bind(hash)
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_totp(&self, user: Uuid, sealed: &[u8], at: Timestamp, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO local_credentials (user_id, totp_sealed, totp_set_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET totp_sealed = excluded.totp_sealed,
                                                 totp_set_at = excluded.totp_set_at,
                                                 totp_last_step = NULL",
        )
        .bind(user)
        .bind(sealed)
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn take_totp_step(&self, user: Uuid, step: i64) -> Result<bool> {
        let n = sql("UPDATE local_credentials SET totp_last_step = $2
             WHERE user_id = $1 AND totp_sealed IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $2)")
        .bind(user)
        .bind(step)
        .execute(&mut *self.writer.acquire().await?)
        .await?;
        Ok(n == 1)
    }

    async fn record_signin_failure(
        &self,
        keys: &[String],
        at: Timestamp,
        forget_before: Timestamp,
        audit: AuditDraft,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sql("DELETE FROM signin_failures WHERE at < $1")
            .bind(to_micros(forget_before))
            .execute(&mut *tx)
            .await?;
        for key in keys {
            sql("INSERT INTO signin_failures (key, at) VALUES ($1, $2)")
                .bind(key)
                .bind(to_micros(at))
                .execute(&mut *tx)
                .await?;
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn signin_failures(&self, key: &str, since: Timestamp) -> Result<u64> {
        sql("SELECT COUNT(*) AS n FROM signin_failures WHERE key = $1 AND at >= $2")
            .bind(key)
            .bind(to_micros(since))
            .fetch_one(&mut *self.read().await?)
            .await?
            .count("n")
    }

    async fn clear_signin_failures(&self, key: &str) -> Result<()> {
        sql("DELETE FROM signin_failures WHERE key = $1")
            .bind(key)
            .execute(&mut *self.writer.acquire().await?)
            .await?;
        Ok(())
    }

    async fn user_settings(&self, user: Uuid) -> Result<UserSettings> {
        Ok(sql("SELECT locale, time_zone FROM user_settings WHERE user_id = $1")
            .bind(user)
            .map_optional(&mut *self.read().await?, |r| {
                Ok(UserSettings {
                    locale: r.opt_text("locale")?,
                    time_zone: r.opt_text("time_zone")?,
                })
            })
            .await?
            .unwrap_or_default())
    }

    async fn set_user_settings(&self, user: Uuid, settings: &UserSettings, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO user_settings (user_id, locale, time_zone) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET locale = excluded.locale, time_zone = excluded.time_zone",
        )
        .bind(user)
        .bind(&settings.locale)
        .bind(&settings.time_zone)
        .execute(&mut *tx)
        .await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
