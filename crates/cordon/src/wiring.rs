//! Builds the outgoing channels, the Slack settings and the background tasks (the paging
//! engine, the Matrix bot) from the configuration.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cordon_channels::{
    Command, HttpTransport, MatrixBot, MatrixClient, OutboundPolicy, SlackClient, SlackVerifier, SmsGateway, Timeouts,
};
use cordon_mail::{CompanyDomains, MailPolicy, Mailer, MailerConfig, SubjectLabel};
use cordon_server::SlackSettings;
use cordon_service::Cordon;
use cordon_service::paging::{PagingSettings, RoomSender};
use cordon_service::secrets::SealingKey;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::config::Config;

/// How often the paging engine looks for due deadlines and notifications when nothing
/// wakes it: deadlines fire within this much of their time.
pub const ENGINE_TICK: Duration = Duration::from_millis(200);

/// The key file that seals secrets at rest when `CORDON_SECRET_KEY` is unset, in the data dir.
pub const SECRET_KEY_FILE: &str = "secret.key";

/// The one outbound HTTP client of webhooks, the SMS gateway, Slack and Matrix, under the
/// outbound policy: nothing that is not public, except the networks of `outbound_allow`.
pub fn outbound_transport(config: &Config) -> anyhow::Result<HttpTransport> {
    let policy = OutboundPolicy::allowing(&config.outbound_allow).context("outbound_allow")?;
    HttpTransport::new(Timeouts::default(), policy).context("building the HTTP transport")
}

/// The key that seals secrets at rest: `CORDON_SECRET_KEY`, else the data dir's key file,
/// created (0600, 32 random bytes as hex) on first start.
pub fn sealing_key(config: &Config) -> anyhow::Result<SealingKey> {
    if let Some(hex) = &config.secret_key {
        return SealingKey::parse_hex(hex).map_err(|e| anyhow::anyhow!("CORDON_SECRET_KEY: {e}"));
    }
    if config
        .database_url
        .as_deref()
        .is_some_and(|u| u.starts_with("postgres"))
    {
        tracing::warn!(
            "CORDON_SECRET_KEY is unset: secrets are sealed with {}/{SECRET_KEY_FILE}; every node on this \
             database needs the same key (set CORDON_SECRET_KEY on each)",
            config.data_dir.display()
        );
    }
    let path = config.data_dir.join(SECRET_KEY_FILE);
    let fresh = SealingKey::generate();
    match write_key_file(&path, &fresh) {
        Ok(()) => Ok(fresh),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            SealingKey::parse_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

fn write_key_file(path: &std::path::Path, key: &SealingKey) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
    f.sync_all()
}

pub fn paging_settings(
    config: &Config,
    public_url: &str,
    matrix: Option<Arc<dyn RoomSender>>,
) -> anyhow::Result<PagingSettings> {
    let http = outbound_transport(config)?;
    let mailer = match &config.smtp_url {
        None => None,
        Some(url) => {
            let domains = CompanyDomains::parse(&config.company_domains.join(",")).context("CORDON_COMPANY_DOMAINS")?;
            let label = SubjectLabel::parse(&config.subject_label).context("subject_label")?;
            let policy = MailPolicy::new(domains).with_label(label).encrypt_inside(true);
            let cfg =
                MailerConfig::new(url, &config.mail_from, policy).context("CORDON_SMTP_URL / CORDON_MAIL_FROM")?;
            Some(Mailer::new(cfg).context("CORDON_SMTP_URL")?)
        }
    };
    let sms = match &config.sms_gateway_url {
        None => None,
        Some(url) => {
            Some(SmsGateway::new(&http, url, config.sms_gateway_token.clone(), Vec::new()).context("sms_gateway_url")?)
        }
    };
    Ok(PagingSettings {
        public_url: public_url.trim_end_matches('/').to_owned(),
        mailer,
        http,
        sms,
        sealing_key: sealing_key(config)?,
        matrix,
    })
}

pub fn slack_settings(config: &Config) -> anyhow::Result<Option<SlackSettings>> {
    let Some(secret) = &config.slack_signing_secret else {
        return Ok(None);
    };
    let verifier = SlackVerifier::new(secret.as_bytes().to_vec()).context("CORDON_SLACK_SIGNING_SECRET")?;
    let client = match &config.slack_api_url {
        Some(url) => {
            let http = outbound_transport(config)?;
            Some(SlackClient::new(&http, url, config.slack_bot_token.clone()).context("slack_api_url")?)
        }
        None => None,
    };
    Ok(Some(SlackSettings { verifier, client }))
}

/// The paging engine: one loop escalates due pages every tick; another delivers due
/// notifications every tick or as soon as a page is triggered or escalated, so a slow
/// delivery never holds up an escalation.
pub fn spawn_engine(cordon: Cordon) -> JoinHandle<()> {
    tokio::spawn(async move {
        let escalator = cordon.clone();
        let escalations = tokio::spawn(async move {
            loop {
                tokio::time::sleep(ENGINE_TICK).await;
                if let Err(e) = escalator.escalate_due(escalator.clock().now()).await {
                    tracing::warn!(error = %e, "paging engine: escalation failed");
                }
                if let Err(e) = escalator.remind_due(escalator.clock().now()).await {
                    tracing::warn!(error = %e, "paging engine: regulatory reminders failed");
                }
            }
        });
        let _abort_with_us = AbortOnDrop(escalations);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(ENGINE_TICK) => {}
                _ = cordon.engine_woken() => {}
            }
            if let Err(e) = cordon.deliver_due(cordon.clock().now()).await {
                tracing::warn!(error = %e, "paging engine: delivery failed");
            }
        }
    })
}

/// The change feed's loop (`cordon_service::feed`): reads the audit log — shared by every
/// node — every `POLL_INTERVAL`, at once again after a full batch, and at once after a write on
/// this node (`Cordon::wake_changes`), and broadcasts what changed to this node's open streams.
pub fn spawn_change_feed(cordon: Cordon) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match cordon.poll_changes().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "change feed: reading the audit log failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(cordon_service::feed::POLL_INTERVAL) => {}
                () = cordon.changes_woken() => {}
            }
        }
    })
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends notices into Matrix rooms with the bot's session (its own client handle, so the
/// command loop's long poll never holds it up).
pub struct MatrixRooms(MatrixClient);

#[async_trait::async_trait]
impl RoomSender for MatrixRooms {
    async fn send(&self, room: &str, text: &str) -> Result<(), String> {
        self.0
            .send_text(room, text, None)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Logs the bot in when Matrix is configured.
#[allow(clippy::type_complexity)]
pub async fn matrix_bot(config: &Config) -> anyhow::Result<Option<(Arc<Mutex<MatrixBot>>, Arc<dyn RoomSender>)>> {
    let (Some(hs), Some(user)) = (&config.matrix_homeserver, &config.matrix_user) else {
        return Ok(None);
    };
    let http = outbound_transport(config)?;
    let client = match (&config.matrix_access_token, &config.matrix_password) {
        (Some(token), _) => MatrixClient::with_access_token(&http, hs, token).await,
        (None, Some(pw)) => MatrixClient::login_password(&http, hs, user, pw, "cordon").await,
        (None, None) => anyhow::bail!("CORDON_MATRIX_USER needs CORDON_MATRIX_PASSWORD or CORDON_MATRIX_ACCESS_TOKEN"),
    }
    .context("logging the Matrix bot in")?;
    let sender = MatrixClient::with_access_token(&http, hs, client.access_token())
        .await
        .context("Matrix sender session")?;
    let bot = MatrixBot::new(client).with_poll_timeout(Duration::from_secs(5));
    Ok(Some((
        Arc::new(Mutex::new(bot)),
        Arc::new(MatrixRooms(sender)) as Arc<dyn RoomSender>,
    )))
}

/// Reads `!` commands from the rooms the bot is in and answers them as the sender's linked
/// Cordon user (a chat identity, linked with `!ic link CODE`). A room is an unprotected
/// channel: it gets the incident's notice (codename, severity, status, link), and the reply goes
/// to the sender in a direct message — unless the room is marked team-only and every member is
/// on the team.
pub fn spawn_matrix_loop(cordon: Cordon, bot: Arc<Mutex<MatrixBot>>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let batch = bot.lock().await.next_commands().await;
            let commands = match batch {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "Matrix sync failed");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
            };
            for c in commands {
                // `!ic link CODE` comes before the sender is looked up: an account linked to
                // nobody must be able to link itself. The reply, which names the Cordon user,
                // goes to the sender alone and never repeats the code.
                if let Command::Link { code } = &c.command {
                    let text = match cordon.link_chat_identity("matrix", &c.sender, code.expose()).await {
                        Ok(linked) => linked.reply(),
                        Err(e) => e.to_string(),
                    };
                    if let Err(e) = bot.lock().await.tell(&c.sender, &text).await {
                        tracing::warn!(error = %e, "could not reply in Matrix");
                    }
                    continue;
                }
                let reply = match cordon.principal_for_chat("matrix_user", &c.sender).await {
                    Ok(Some(p)) => cordon.answer_command(&p, &c.room_id, c.command.clone(), None).await,
                    Ok(None) => {
                        let _ = cordon
                            .audit_refused_request(
                                &format!("matrix:{}", c.sender),
                                "chat.command",
                                "unlinked Matrix account",
                            )
                            .await;
                        text_reply(
                            "Your Matrix account is not linked to a Cordon user. Ask Cordon for a code (`cordon user link-code matrix`) and send `!ic link CODE`, or ask an admin to link it.",
                        )
                    }
                    Err(e) => text_reply(e.to_string()),
                };
                let mut bot = bot.lock().await;
                if let Err(e) = answer_in_matrix(&cordon, &mut bot, &c.room_id, &c.sender, reply).await {
                    tracing::warn!(error = %e, "could not reply in Matrix");
                }
            }
        }
    })
}

fn text_reply(text: impl Into<String>) -> cordon_service::chat::ChatReply {
    cordon_service::chat::ChatReply {
        reply: text.into(),
        ..Default::default()
    }
}

/// Delivers a reply: in full to a team-only room whose members Cordon checked (and whose past
/// messages only members who had joined may read, so nobody who joins later reads them),
/// otherwise the notice to the room and the reply to the sender alone.
async fn answer_in_matrix(
    cordon: &Cordon,
    bot: &mut MatrixBot,
    room: &str,
    sender: &str,
    reply: cordon_service::chat::ChatReply,
) -> Result<(), cordon_channels::ChannelError> {
    let whole_room = match reply.incident_id {
        Some(_) if bot.client().history_visibility(room).await? != "joined" => false,
        Some(incident) => {
            let own = bot.client().user_id().to_owned();
            let members: Vec<String> = bot
                .client()
                .joined_members(room)
                .await?
                .into_iter()
                .filter(|m| *m != own)
                .collect();
            cordon
                .room_hears_replies(room, incident, "matrix_user", &members)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "could not check the room's members");
                    false
                })
        }
        None => false,
    };
    if whole_room {
        bot.reply(room, &reply.reply).await?;
        return Ok(());
    }
    if let Some(notice) = &reply.room {
        bot.reply(room, &notice.text()).await?;
    }
    bot.tell(sender, &reply.reply).await?;
    Ok(())
}
