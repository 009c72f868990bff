//! Wiring for `cordon serve`: data dir, store, first-run admin, listener and router.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use cordon_core::clock::Clock;
use cordon_service::{Cordon, Playbooks, evidence, timeline};
use cordon_store::{PostgresStore, SqliteStore, Store};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::wiring;

/// The file the generated admin token is written to, inside the data dir.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";
/// The embedded database file, inside the data dir.
pub const SQLITE_FILE: &str = "cordon.db";

/// What the first start did about the admin user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// Users existed already.
    Existing,
    /// Created with the operator's `CORDON_ADMIN_TOKEN`.
    FromConfig,
    /// Created with a generated token, written to this file (mode 0600).
    Generated(PathBuf),
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub admin: AdminBootstrap,
    pub cordon: Cordon,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The paging engine and chat loops; stopped with the server.
    background: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish for the shutdown grace period
    /// (`http_shutdown_grace`), closes what is left, and waits for the server to end.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        for b in &self.background {
            b.abort();
        }
        // Open change streams end now rather than hold the shutdown for its grace period.
        self.cordon.close_changes();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.context("server task panicked")??;
        Ok(())
    }

    /// Resolves when the server ends on its own (it only does on error).
    pub async fn finished(&mut self) -> anyhow::Result<()> {
        (&mut self.task).await.context("server task panicked")??;
        Ok(())
    }
}

/// Makes the data dir private, at every start: created 0700 if missing; otherwise the dir
/// becomes 0700 and every file and directory in it loses its group and other bits (an
/// evidence file stays read-only for the owner). Anything not owned by this process's user,
/// or whose mode cannot be changed, is refused by path: another owner could open it up again.
/// From here on the process creates files without group or other bits (umask 077), so the
/// database and its WAL and shared-memory files are 0600 too.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating data dir {}", dir.display()))?;
    }
    let me = rustix::process::geteuid().as_raw();
    make_private(dir, me, true)
}

/// Strips group and other bits from `path` (0700 for the data dir itself) and, for a
/// directory, from everything below it. Symbolic links inside are not followed (the data dir
/// itself may be one).
fn make_private(path: &Path, owner: u32, top: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = if top {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    }
    .with_context(|| format!("reading {}", path.display()))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if meta.uid() != owner {
        bail!(
            "{} belongs to uid {}, not to the user cordon runs as (uid {owner}); it cannot be kept private. \
             Give it to that user (chown) or move it out of the data dir",
            path.display(),
            meta.uid()
        );
    }
    let mode = meta.permissions().mode() & 0o7777;
    let want = if top { 0o700 } else { mode & 0o700 };
    if mode != want {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(want)).with_context(|| {
            format!(
                "{} has mode {mode:04o} and cannot be made private ({want:04o})",
                path.display()
            )
        })?;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))? {
            let entry = entry.with_context(|| format!("reading {}", path.display()))?;
            make_private(&entry.path(), owner, false)?;
        }
    }
    Ok(())
}

fn write_secret_file(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(content.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

/// Opens the configured store.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match config.database_url.as_deref() {
        None => {
            let path = config.data_dir.join(SQLITE_FILE);
            Ok(Arc::new(
                SqliteStore::open(&path)
                    .await
                    .with_context(|| format!("opening {}", path.display()))?,
            ))
        }
        Some(url) if url.starts_with("sqlite:") => Ok(Arc::new(
            SqliteStore::open_url(url)
                .await
                .context("opening the SQLite database")?,
        )),
        // Several nodes may share one PostgreSQL database; evidence blobs and timeline
        // indexes still live in each node's data dir.
        Some(url) if url.starts_with("postgres:") || url.starts_with("postgresql:") => Ok(Arc::new(
            PostgresStore::open_url(url)
                .await
                .context("opening the PostgreSQL database")?,
        )),
        Some(_) => bail!("CORDON_DATABASE_URL must start with sqlite:// or postgres://"),
    }
}

/// Starts the server: opens the data dir and store, bootstraps the admin, binds and serves.
/// The evidence locker: the bucket of `evidence_url` (uploads spooled in the data dir), else
/// files in the data dir.
async fn locker(config: &Config) -> anyhow::Result<evidence::Locker> {
    Ok(match &config.evidence_url {
        Some(url) => evidence::Locker::open_s3(url, &config.data_dir.join("evidence-spool")).await?,
        None => evidence::Locker::open(&config.data_dir.join("evidence")).await?,
    })
}

pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let serve_limits = config.serve_limits()?;
    let request_limits = config.request_limits()?;
    let session_settings = config.session_settings()?;
    create_private_dir(&config.data_dir)?;
    let store = open_store(config).await?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let public_url = config.public_url_or(&addr.to_string());
    let (matrix, matrix_sender) = match wiring::matrix_bot(config).await? {
        Some((bot, sender)) => (Some(bot), Some(sender)),
        None => (None, None),
    };
    let cordon = Cordon::new(store, clock, Playbooks::builtin())
        .with_sessions(session_settings)
        .with_paging(wiring::paging_settings(config, &public_url, matrix_sender)?)
        .with_comms(cordon_service::comms::CommsSettings {
            policy: config.communications.policy()?,
        })
        .with_reports(cordon_service::report::ReportSettings {
            subject_label: cordon_mail::SubjectLabel::parse(&config.subject_label)
                .context("subject_label")?
                .as_str()
                .to_owned(),
        })
        .with_evidence(
            locker(config)
                .await?
                .with_notifier(Arc::new(cordon_service::paging::PageOnMismatch)),
        )
        .with_timeline(
            timeline::Timelines::open_with(&config.data_dir.join("timeline"), config.timeline_settings()?).await?,
        );
    let admin = match cordon.bootstrap_admin(config.admin_token.clone()).await? {
        None => AdminBootstrap::Existing,
        Some(b) if !b.generated => AdminBootstrap::FromConfig,
        Some(b) => {
            let path = config.data_dir.join(ADMIN_TOKEN_FILE);
            write_secret_file(&path, &b.token)?;
            AdminBootstrap::Generated(path)
        }
    };
    // Chat accounts several users claimed before proof was needed: named in the log.
    cordon.warn_chat_identity_conflicts().await?;
    // No channel that can deliver, no commander policy, on-call people nobody can reach.
    cordon.warn_paging_readiness().await?;
    let (tx, rx) = oneshot::channel::<()>();
    let web = cordon_server::WebSettings::new(&public_url);
    let app = cordon_server::app_with_web(cordon.clone(), wiring::slack_settings(config)?, request_limits, web);
    // The change feed starts at the end of the audit log, before the first request.
    cordon.start_changes().await?;
    let mut background = vec![
        wiring::spawn_engine(cordon.clone()),
        wiring::spawn_change_feed(cordon.clone()),
    ];
    background.push(tokio::spawn(
        cordon
            .clone()
            .run_evidence_verification(config.evidence_verify_interval),
    ));
    if let Some(bot) = matrix {
        background.push(wiring::spawn_matrix_loop(cordon.clone(), bot));
    }
    let task = tokio::spawn(cordon_server::serve(listener, app, serve_limits, async move {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        admin,
        cordon,
        shutdown: Some(tx),
        task,
        background,
    })
}
