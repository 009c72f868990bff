//! Use cases: the one place where authorization, the clock, the store and the domain rules meet.
//!
//! HTTP handlers, chat commands and the CLI (through HTTP) call these functions and nothing
//! else; no SQL and no business rule lives in a handler. Every function takes the caller's
//! [`Principal`] and reads the time from the injected clock exactly once.
//!
//! Need-to-know is enforced here: an incident the caller may not see is reported as
//! [`ServiceError::NotFound`], exactly like one that does not exist.

mod accounts;
pub mod activity;
mod assigned;
mod audit;
pub mod chat;
pub mod comms;
mod contacts;
mod error;
pub mod evidence;
pub mod feed;
mod gate;
pub mod handles;
pub mod identity;
mod incidents;
pub mod oidc;
pub mod paging;
pub mod playbooks;
mod random;
pub mod registers;
pub mod regulatory;
pub mod report;
pub mod room;
pub mod secrets;
mod seen;
pub mod sessions;
mod tasks;
pub mod timeline;
pub mod totp;
mod users;
pub mod webhooks;

use std::sync::Arc;

use cordon_core::clock::Clock;
use cordon_store::Store;

pub use accounts::{LOCALES, TotpEnrolment};
pub use assigned::{HeldTask, TaskList};
pub use audit::{AuditFilter, AuditPage};
pub use cordon_core::access::Principal;
pub use cordon_store::AuditEntry;
pub use cordon_store::accounts::UserSettings;
pub use error::{Limit, ServiceError, UnmetGate};
pub use incidents::{Declare, IncidentDetails, IncidentPatch};
pub use playbooks::Playbooks;
pub use sessions::{
    ClientInfo, OpenedSession, SessionCaller, SessionInfo, SessionSettings, SignInMethod, SignInRefusal,
};
pub use tasks::{TaskChange, TaskPatch, TaskView};
pub use users::{Bootstrap, Disabled, IssuedToken, NewUser, TokenInfo};

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The application: store, clock and playbooks, shared by every front end.
#[derive(Clone)]
pub struct Cordon {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    playbooks: Arc<Playbooks>,
    tokens: Arc<users::TokenCache>,
    link_limiter: Arc<identity::LinkLimiter>,
    evidence: Option<Arc<evidence::Locker>>,
    timeline: Option<Arc<timeline::Timelines>>,
    paging: Arc<paging::PagingSettings>,
    engine_wakeup: Arc<tokio::sync::Notify>,
    comms: Arc<comms::CommsSettings>,
    reports: Arc<report::ReportSettings>,
    oidc: Option<Arc<oidc::Oidc>>,
    sessions: Arc<sessions::SessionSettings>,
    feed: Arc<feed::Feed>,
}

impl std::fmt::Debug for Cordon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cordon")
            .field("store", &self.store.backend())
            .finish_non_exhaustive()
    }
}

impl Cordon {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, playbooks: Playbooks) -> Self {
        Self {
            store,
            clock,
            playbooks: Arc::new(playbooks),
            tokens: Arc::default(),
            link_limiter: Arc::default(),
            evidence: None,
            timeline: None,
            paging: Arc::new(paging::PagingSettings::disabled("http://127.0.0.1:8077")),
            engine_wakeup: Arc::default(),
            comms: Arc::default(),
            reports: Arc::default(),
            oidc: None,
            sessions: Arc::default(),
            feed: Arc::default(),
        }
    }

    /// Sets how pages leave the building.
    pub fn with_paging(mut self, settings: paging::PagingSettings) -> Self {
        self.paging = Arc::new(settings);
        self
    }

    pub fn playbooks(&self) -> &Playbooks {
        &self.playbooks
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}
