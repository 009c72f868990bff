//! OIDC sign-in: Cordon as a relying party of the company's identity provider.
//!
//! The authorization code flow with PKCE (S256): [`Cordon::oidc_start`] makes a `state`, a
//! `nonce` and a PKCE verifier, keeps them in the store as a pending sign-in (found by the
//! state's SHA-256, taken once, [`PENDING_TTL`] long — so whichever node the provider sends the
//! browser back to can finish it) and sends the browser to the provider. The state also goes to
//! the browser in a short-lived cookie (the edge sets it): the callback must bring the same state
//! in its query and its cookie, so a callback cannot be finished in another browser than the one
//! that started it (login CSRF). [`Cordon::oidc_callback`] takes the pending sign-in, exchanges
//! the code (with the verifier) for tokens and verifies the ID token — signature against the
//! provider's JWKS, issuer, audience, expiry at the service's `now`, and the nonce — with the
//! `openidconnect` crate, over our own reqwest client ([`OidcHttp`]).
//!
//! The user is found by the link of (issuer, subject) — never by e-mail; on the first sign-in a
//! user is created and linked (its name from `preferred_username`, else the e-mail's local part,
//! else the subject, made a valid name and suffixed `-2`, `-3`, … when taken). The user's groups
//! follow the groups claim of the ID token on every sign-in (changes audited). A disabled user is
//! refused whatever the provider says.
//!
//! Sign-in can be turned off at once: by configuration (`CORDON_OIDC_ENABLED=false`) or by an
//! admin's switch kept in the store ([`Cordon::set_oidc_enabled`]), which every node reads on
//! every start and callback. Refusals are audited (`auth.oidc.start.refused`,
//! `auth.oidc.sign_in.refused`) with a stable reason.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::user::{User, validate_email, validate_name};
use cordon_store::StoreError;
use cordon_store::oidc::{OidcLink, OidcPending, SignInSwitch};
use jiff::SignedDuration;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::audit::draft;
use crate::{Cordon, Result, ServiceError, random};

/// The redirect URI to register with the provider, under the public URL (CONTRACT).
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";
/// Where the browser starts an OIDC sign-in.
pub const START_PATH: &str = "/auth/oidc/start";
/// How long a sign-in may take between the redirect to the provider and its redirect back.
pub const PENDING_TTL: SignedDuration = SignedDuration::from_mins(10);
/// How long the provider's discovery document and keys are used before they are fetched again.
pub const METADATA_TTL: SignedDuration = SignedDuration::from_mins(5);
/// The switch's name in the store.
pub const SWITCH: &str = "oidc";
/// At most this much of an answer of the provider is read (discovery, keys, tokens).
const BODY_LIMIT: usize = 1024 * 1024;
/// At most this many groups of the claim are kept.
const MAX_GROUPS: usize = 200;

/// How OIDC sign-in is configured (`CORDON_OIDC_*`).
#[derive(Clone)]
pub struct OidcSettings {
    /// The provider's issuer URL; discovery is read from `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The ID token claim that lists the user's groups (`groups`).
    pub groups_claim: String,
    /// `CORDON_OIDC_ENABLED`: false keeps sign-in off whatever the admin switch says.
    pub enabled: bool,
    /// The public URL people open; the redirect URI is this plus [`CALLBACK_PATH`].
    pub public_url: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("groups_claim", &self.groups_claim)
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// The relying party: settings, the HTTP client, and the provider's metadata once discovered.
pub struct Oidc {
    settings: OidcSettings,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    http: OidcHttp,
    /// The discovery document with its keys, and when it was fetched.
    metadata: tokio::sync::Mutex<Option<(CoreProviderMetadata, Timestamp)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    /// Checks the settings (URLs, a client id, a claim name). The provider is not contacted
    /// until the first sign-in, so Cordon starts (and local accounts work) while it is down.
    pub fn new(settings: OidcSettings) -> Result<Self, String> {
        let issuer =
            IssuerUrl::new(settings.issuer.trim().to_owned()).map_err(|e| format!("oidc_issuer: not a URL ({e})"))?;
        if !matches!(issuer.url().scheme(), "https" | "http") {
            return Err("oidc_issuer: the scheme must be https (or http on a test network)".into());
        }
        if settings.client_id.trim().is_empty() {
            return Err("oidc_client_id: required with oidc_issuer".into());
        }
        if settings.groups_claim.trim().is_empty() {
            return Err("oidc_groups_claim: must not be empty".into());
        }
        let redirect = RedirectUrl::new(format!("{}{CALLBACK_PATH}", settings.public_url.trim_end_matches('/')))
            .map_err(|e| format!("public_url: not a URL ({e})"))?;
        Ok(Self {
            settings,
            issuer,
            redirect,
            http: OidcHttp::new()?,
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    /// The provider's metadata and keys: fetched on first use and again after [`METADATA_TTL`]
    /// (or when `fresh`: a token signed with a key not seen yet, after a rotation).
    async fn metadata(&self, now: Timestamp, fresh: bool) -> Result<CoreProviderMetadata, OidcError> {
        let mut cached = self.metadata.lock().await;
        if let Some((m, at)) = cached.as_ref()
            && !fresh
            && *at <= now
            && now.duration_since(*at) < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let m = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %error_chain(&e), issuer = %self.settings.issuer, "OIDC discovery failed");
                OidcError::Provider("the identity provider's discovery document or keys could not be read")
            })?;
        *cached = Some((m.clone(), now));
        Ok(m)
    }

    fn client(&self, metadata: CoreProviderMetadata) -> RpClient {
        RpClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect.clone())
    }
}

/// The claims of the ID token beyond the standard ones, kept as they came (the groups claim's
/// name is configured).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OtherClaims(serde_json::Map<String, Value>);

impl AdditionalClaims for OtherClaims {}

type RpTokenResponse = StandardTokenResponse<
    IdTokenFields<
        OtherClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// The client as discovery makes it: an authorization endpoint, maybe a token endpoint.
type RpClient = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    RpTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The adapter that lets `openidconnect` (built without its own reqwest 0.12) use our reqwest
/// client: no redirects followed, no proxy, bounded time and answer size.
pub struct OidcHttp {
    client: reqwest::Client,
}

/// Why a request to the provider failed (no body of the provider is kept).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OidcHttpError(String);

impl OidcHttp {
    fn new() -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("cordon/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("building the OIDC HTTP client: {e}"))?;
        Ok(Self { client })
    }

    async fn send(&self, request: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, OidcHttpError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let mut response = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| OidcHttpError(e.without_url().to_string()))?;
        if response.content_length().is_some_and(|n| n > BODY_LIMIT as u64) {
            return Err(OidcHttpError("the answer is too large".into()));
        }
        let mut out = openidconnect::http::Response::builder().status(response.status());
        if let Some(headers) = out.headers_mut() {
            *headers = response.headers().clone();
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| OidcHttpError(e.without_url().to_string()))?
        {
            if bytes.len() + chunk.len() > BODY_LIMIT {
                return Err(OidcHttpError("the answer is too large".into()));
            }
            bytes.extend_from_slice(&chunk);
        }
        out.body(bytes).map_err(|e| OidcHttpError(e.to_string()))
    }
}

impl<'c> openidconnect::AsyncHttpClient<'c> for OidcHttp {
    type Error = OidcHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, OidcHttpError>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}

/// Why an OIDC sign-in did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// OIDC sign-in is not configured, or is switched off (config or admin).
    #[error("sign-in with the identity provider is turned off")]
    Off,
    /// The callback failed a check; `reason` is a stable code, `detail` says more.
    #[error("the sign-in was refused: {detail}")]
    Refused { reason: &'static str, detail: String },
    /// The provider could not be reached or answered nonsense.
    #[error("{0}")]
    Provider(&'static str),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for OidcError {
    fn from(e: StoreError) -> Self {
        Self::Service(e.into())
    }
}

impl OidcError {
    fn refused(reason: &'static str, detail: impl Into<String>) -> Self {
        Self::Refused {
            reason,
            detail: detail.into(),
        }
    }

    /// The stable code of the refusal (`disabled`, `state_mismatch`, …).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Off => "disabled",
            Self::Refused { reason, .. } => reason,
            Self::Provider(_) => "provider_unavailable",
            Self::Service(_) => "internal",
        }
    }
}

/// The cookie that binds a sign-in to the browser that started it: `__Host-cordon_oidc` with
/// `Secure` when the public URL is https, else `cordon_oidc`; HttpOnly, SameSite=Lax (the
/// provider's redirect back is a top-level navigation from another site), Path=/.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingCookie {
    pub name: &'static str,
    pub secure: bool,
}

impl BindingCookie {
    pub fn for_public_url(public_url: &str) -> Self {
        if public_url.trim().to_ascii_lowercase().starts_with("https://") {
            Self {
                name: "__Host-cordon_oidc",
                secure: true,
            }
        } else {
            Self {
                name: "cordon_oidc",
                secure: false,
            }
        }
    }
}

/// Where the browser goes to sign in, and the state for its binding cookie.
#[derive(Debug, Clone)]
pub struct OidcStart {
    /// The provider's authorization URL.
    pub redirect_to: String,
    /// The state: the edge sets it as a cookie the callback must bring back.
    pub state: String,
    /// How long the cookie (and the pending sign-in) lives.
    pub max_age: SignedDuration,
}

/// What the provider's redirect back brought.
#[derive(Debug, Clone, Default)]
pub struct OidcCallback {
    pub state: Option<String>,
    pub code: Option<String>,
    /// The provider's `error` (the user denied, …).
    pub error: Option<String>,
    /// The state of the browser's binding cookie.
    pub browser_state: Option<String>,
}

/// A finished sign-in: the user, where to go, and the instant it happened (for the session).
#[derive(Debug, Clone)]
pub struct OidcSignedIn {
    pub user: User,
    pub next: String,
    pub now: Timestamp,
    /// The user was created by this sign-in.
    pub provisioned: bool,
}

/// OIDC sign-in's state for an admin: configured, allowed by config, the switch, in effect.
#[derive(Debug, Clone)]
pub struct OidcStatus {
    pub configured: bool,
    pub issuer: Option<String>,
    /// `CORDON_OIDC_ENABLED`.
    pub config_enabled: bool,
    /// The admin switch, if ever set (unset: on).
    pub switch: Option<SignInSwitch>,
    /// Whether sign-in with the provider works now.
    pub enabled: bool,
}

/// Where to go after signing in: a local path, else `/`. Anything that could leave the site
/// (`//host`, `/\host`, a scheme, control characters) is refused.
pub fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 2048
                && !n.chars().any(|c| c.is_control() || c == '\\') =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn state_hash(state: &str) -> [u8; 32] {
    Sha256::digest(state.as_bytes()).into()
}

/// A valid user name made from `raw` (lower case; other characters become `-`), or `None`.
fn name_from(raw: &str) -> Option<String> {
    let mapped: String = raw
        .trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let cut: String = trimmed.chars().take(56).collect();
    let cut = cut.trim_end_matches(['-', '.', '_']).to_owned();
    validate_name("name", &cut).ok()
}

/// The groups of the claim, as group names: a list of strings (or one string); names are
/// lower-cased and a leading `/` (Keycloak's group paths) dropped. Those that are still not
/// valid names are returned apart, to be audited as ignored.
fn groups_from(claim: Option<&Value>) -> (Vec<String>, Vec<String>) {
    let raw: Vec<String> = match claim {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let (mut kept, mut ignored) = (Vec::new(), Vec::new());
    for g in raw.into_iter().take(MAX_GROUPS) {
        let name = g.trim().trim_start_matches('/').to_ascii_lowercase();
        match validate_name("groups", &name) {
            Ok(n) => kept.push(n),
            Err(_) => ignored.push(g),
        }
    }
    kept.sort();
    kept.dedup();
    (kept, ignored)
}

/// Why the ID token was refused, as a stable code.
fn claims_reason(e: &ClaimsVerificationError) -> &'static str {
    match e {
        ClaimsVerificationError::Expired(_) => "id_token_expired",
        ClaimsVerificationError::InvalidAudience(_) => "id_token_audience",
        ClaimsVerificationError::InvalidIssuer(_) => "id_token_issuer",
        ClaimsVerificationError::InvalidNonce(_) => "id_token_nonce",
        ClaimsVerificationError::SignatureVerification(_) => "id_token_signature",
        _ => "id_token_invalid",
    }
}

/// The ID token's claims this module reads, once verified.
struct Identity {
    subject: String,
    preferred_username: Option<String>,
    email: Option<String>,
    groups: Vec<String>,
    ignored_groups: Vec<String>,
}

impl Cordon {
    /// Sets up OIDC sign-in.
    pub fn with_oidc(mut self, oidc: Oidc) -> Self {
        self.oidc = Some(std::sync::Arc::new(oidc));
        self
    }

    /// The admin switch, if ever set.
    async fn oidc_switch(&self) -> Result<Option<SignInSwitch>> {
        Ok(self.store.sign_in_switch(SWITCH).await?)
    }

    /// The cookie that binds a sign-in to its browser.
    pub fn oidc_cookie(&self) -> BindingCookie {
        BindingCookie::for_public_url(self.oidc.as_ref().map_or("", |o| o.settings.public_url.as_str()))
    }

    /// Whether the sign-in page offers the provider's button: configured, allowed by the
    /// configuration, and not switched off by an admin (read from the store: every node agrees).
    pub async fn oidc_offered(&self) -> Result<bool> {
        match &self.oidc {
            Some(o) if o.settings.enabled => Ok(self.oidc_switch().await?.is_none_or(|s| s.enabled)),
            _ => Ok(false),
        }
    }

    /// OIDC sign-in's state (admins).
    pub async fn oidc_status(&self, p: &Principal) -> Result<OidcStatus> {
        if !p.is_admin {
            let e = ServiceError::Forbidden("only admins may see the sign-in settings".into());
            return Err(self.refuse(p, "auth.oidc.status", "auth:oidc".into(), e).await);
        }
        self.oidc_status_now().await
    }

    async fn oidc_status_now(&self) -> Result<OidcStatus> {
        let switch = self.oidc_switch().await?;
        let configured = self.oidc.is_some();
        let config_enabled = self.oidc.as_ref().is_some_and(|o| o.settings.enabled);
        Ok(OidcStatus {
            configured,
            issuer: self.oidc.as_ref().map(|o| o.settings.issuer.clone()),
            config_enabled,
            enabled: configured && config_enabled && switch.as_ref().is_none_or(|s| s.enabled),
            switch,
        })
    }

    /// Turns OIDC sign-in on or off for every node at once (admins); audited as
    /// `auth.oidc.enable` / `auth.oidc.disable` when it changes. Turning it off ends no session
    /// already open (disable the users for that); it refuses every sign-in from then on.
    pub async fn set_oidc_enabled(&self, p: &Principal, enabled: bool) -> Result<OidcStatus> {
        let action = if enabled {
            "auth.oidc.enable"
        } else {
            "auth.oidc.disable"
        };
        if !p.is_admin {
            let e = ServiceError::Forbidden("only admins may turn sign-in methods on or off".into());
            return Err(self.refuse(p, action, "auth:oidc".into(), e).await);
        }
        let now = self.clock.now();
        let current = self.oidc_switch().await?;
        if current.as_ref().is_none_or(|s| s.enabled) != enabled {
            let switch = SignInSwitch {
                method: SWITCH.into(),
                enabled,
                changed_at: now,
                changed_by: p.name.clone(),
            };
            let audit = draft(now, &p.name, action, "auth:oidc".into(), json!({ "enabled": enabled }));
            self.store.set_sign_in_switch(&switch, audit).await?;
        }
        self.oidc_status_now().await
    }

    /// Refuses while sign-in is off, audited as `action.refused`.
    async fn oidc_if_on(&self, action: &str) -> Result<&Oidc, OidcError> {
        match &self.oidc {
            Some(o) if self.oidc_offered().await? => Ok(o),
            _ => {
                let reason = if self.oidc.is_none() {
                    "not configured"
                } else {
                    "turned off"
                };
                self.audit_oidc_refusal("anonymous", action, "disabled", reason).await?;
                Err(OidcError::Off)
            }
        }
    }

    async fn audit_oidc_refusal(&self, actor: &str, action: &str, reason: &str, detail: &str) -> Result<()> {
        let subject = if actor == "anonymous" {
            "auth:oidc".to_owned()
        } else {
            format!("user:{actor}")
        };
        let d = draft(
            self.clock.now(),
            actor,
            &format!("{action}.refused"),
            subject,
            json!({ "reason": reason, "detail": detail }),
        );
        self.store.append_audit(d).await?;
        Ok(())
    }

    /// Starts a sign-in: the pending sign-in stored, and the provider's authorization URL to
    /// send the browser to. `next` is where to go afterwards (a local path, else `/`).
    pub async fn oidc_start(&self, next: Option<&str>) -> Result<OidcStart, OidcError> {
        let oidc = self.oidc_if_on("auth.oidc.start").await?;
        let now = self.clock.now();
        let metadata = match oidc.metadata(now, false).await {
            Ok(m) => m,
            Err(e) => {
                self.audit_oidc_refusal("anonymous", "auth.oidc.start", e.reason(), &e.to_string())
                    .await?;
                return Err(e);
            }
        };
        let client = oidc.client(metadata);
        let state = hex::encode(random::bytes::<32>());
        let nonce = hex::encode(random::bytes::<32>());
        let verifier = PkceCodeVerifier::new(hex::encode(random::bytes::<32>()));
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        let (url, _, _) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                {
                    let s = state.clone();
                    move || CsrfToken::new(s)
                },
                {
                    let n = nonce.clone();
                    move || Nonce::new(n)
                },
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        self.store
            .put_oidc_pending(
                &OidcPending {
                    state_hash: state_hash(&state),
                    nonce,
                    pkce_verifier: verifier.secret().clone(),
                    next: safe_next(next),
                    created_at: now,
                    expires_at: now + PENDING_TTL,
                },
                now,
            )
            .await?;
        Ok(OidcStart {
            redirect_to: url.to_string(),
            state,
            max_age: PENDING_TTL,
        })
    }

    /// Finishes a sign-in from the provider's redirect back: every check passed, the user found
    /// (or created) by (issuer, subject), their groups in step, or a refusal, audited.
    pub async fn oidc_callback(&self, cb: OidcCallback) -> Result<OidcSignedIn, OidcError> {
        let oidc = self.oidc_if_on("auth.oidc.sign_in").await?;
        match self.oidc_finish(oidc, cb).await {
            Ok(done) => Ok(done),
            Err((actor, e)) => {
                if let OidcError::Refused { reason, detail } = &e {
                    self.audit_oidc_refusal(&actor, "auth.oidc.sign_in", reason, detail)
                        .await?;
                } else if let OidcError::Provider(what) = &e {
                    self.audit_oidc_refusal(&actor, "auth.oidc.sign_in", e.reason(), what)
                        .await?;
                }
                Err(e)
            }
        }
    }

    /// The callback's checks and the user; a refusal comes with who was refused (`anonymous`
    /// until the ID token names a user).
    async fn oidc_finish(&self, oidc: &Oidc, cb: OidcCallback) -> Result<OidcSignedIn, (String, OidcError)> {
        let anon = |e: OidcError| ("anonymous".to_owned(), e);
        let now = self.clock.now();
        let state = cb
            .state
            .filter(|s| !s.is_empty() && s.len() <= 512)
            .ok_or_else(|| anon(OidcError::refused("missing_state", "the callback has no state")))?;
        // The state must come back to the browser that started the sign-in.
        let bound = cb
            .browser_state
            .as_deref()
            .is_some_and(|b| bool::from(b.as_bytes().ct_eq(state.as_bytes())));
        if !bound {
            return Err(anon(OidcError::refused(
                "state_mismatch",
                "the state does not belong to this browser's sign-in",
            )));
        }
        let pending = self
            .store
            .take_oidc_pending(&state_hash(&state), now)
            .await
            .map_err(|e| anon(e.into()))?
            .ok_or_else(|| {
                anon(OidcError::refused(
                    "unknown_state",
                    "no sign-in is under way with this state (used already, expired or never started)",
                ))
            })?;
        if let Some(error) = cb.error {
            let error: String = error.chars().filter(|c| !c.is_control()).take(100).collect();
            return Err(anon(OidcError::refused(
                "provider_error",
                format!("the identity provider answered `{error}`"),
            )));
        }
        let code = cb
            .code
            .filter(|c| !c.is_empty() && c.len() <= 4096)
            .ok_or_else(|| anon(OidcError::refused("missing_code", "the callback has no code")))?;
        let identity = self.oidc_verify(oidc, &code, &pending, now).await.map_err(anon)?;
        self.oidc_user(oidc, identity, pending.next, now).await
    }

    /// Exchanges the code and verifies the ID token; the identity it carries. A token signed with
    /// a key not among the provider's known keys is checked once more against keys fetched anew
    /// (the provider rotated them).
    async fn oidc_verify(
        &self,
        oidc: &Oidc,
        code: &str,
        pending: &OidcPending,
        now: Timestamp,
    ) -> Result<Identity, OidcError> {
        let client = oidc.client(oidc.metadata(now, false).await?);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| OidcError::Provider("the identity provider has no token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&oidc.http)
            .await
            .map_err(|e| {
                tracing::info!(error = %error_chain(&e), "OIDC code exchange refused");
                OidcError::refused(
                    "token_exchange",
                    "the identity provider did not exchange the code for tokens",
                )
            })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OidcError::refused("id_token_missing", "the provider sent no ID token"))?;
        let at = chrono::DateTime::from_timestamp_micros(cordon_core::clock::to_micros(now))
            .unwrap_or(chrono::DateTime::UNIX_EPOCH);
        let nonce = Nonce::new(pending.nonce.clone());
        let verify = |client: &RpClient| {
            let verifier = client.id_token_verifier().set_time_fn(move || at);
            id_token.claims(&verifier, &nonce).cloned()
        };
        let claims = match verify(&client) {
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                verify(&oidc.client(oidc.metadata(now, true).await?))
            }
            other => other,
        }
        .map_err(|e| {
            tracing::info!(error = %error_chain(&e), "OIDC ID token refused");
            OidcError::refused(claims_reason(&e), format!("the ID token was refused: {e}"))
        })?;
        let other = &claims.additional_claims().0;
        let (groups, ignored_groups) = groups_from(other.get(&oidc.settings.groups_claim));
        Ok(Identity {
            subject: claims.subject().as_str().to_owned(),
            preferred_username: claims.preferred_username().map(|u| u.as_str().to_owned()),
            email: claims.email().map(|e| e.as_str().to_owned()),
            groups,
            ignored_groups,
        })
    }

    /// The user of a verified identity: the linked one (refused when disabled; groups brought
    /// in step), or a new one.
    async fn oidc_user(
        &self,
        oidc: &Oidc,
        id: Identity,
        next: String,
        now: Timestamp,
    ) -> Result<OidcSignedIn, (String, OidcError)> {
        let anon = |e: OidcError| ("anonymous".to_owned(), e);
        let issuer = oidc.issuer.as_str().to_owned();
        let mut provisioned = false;
        let link = match self
            .store
            .oidc_link(&issuer, &id.subject)
            .await
            .map_err(|e| anon(e.into()))?
        {
            Some(link) => link,
            None => match self.oidc_provision(&issuer, &id, now).await.map_err(anon)? {
                Some(link) => {
                    provisioned = true;
                    link
                }
                // Another node linked the subject at the same moment: use its user.
                None => self
                    .store
                    .oidc_link(&issuer, &id.subject)
                    .await
                    .map_err(|e| anon(e.into()))?
                    .ok_or_else(|| anon(ServiceError::NotFound("user").into()))?,
            },
        };
        let user = self
            .store
            .user_by_id(link.user_id)
            .await
            .map_err(|e| anon(e.into()))?
            .ok_or_else(|| anon(ServiceError::NotFound("user").into()))?;
        let who = user.name.clone();
        if user.is_disabled() {
            return Err((
                who,
                OidcError::refused(
                    "user_disabled",
                    "the Cordon user is disabled; the identity provider's word does not change that",
                ),
            ));
        }
        let changed = !provisioned && user.groups != id.groups;
        let audit = changed.then(|| {
            let added: Vec<&String> = id.groups.iter().filter(|g| !user.groups.contains(g)).collect();
            let removed: Vec<&String> = user.groups.iter().filter(|g| !id.groups.contains(g)).collect();
            draft(
                now,
                &who,
                "user.groups.sync",
                format!("user:{who}"),
                json!({ "via": "oidc", "added": added, "removed": removed, "groups": id.groups,
                        "ignored_groups": id.ignored_groups }),
            )
        });
        self.store
            .record_oidc_sign_in(&issuer, &id.subject, now, changed.then_some(&id.groups[..]), audit)
            .await
            .map_err(|e| (who.clone(), e.into()))?;
        let d = draft(
            now,
            &who,
            "auth.oidc.sign_in",
            format!("user:{who}"),
            json!({ "issuer": issuer, "subject": id.subject, "provisioned": provisioned }),
        );
        self.store.append_audit(d).await.map_err(|e| (who.clone(), e.into()))?;
        let user = User {
            groups: id.groups,
            ..user
        };
        Ok(OidcSignedIn {
            user,
            next,
            now,
            provisioned,
        })
    }

    /// Creates the user of a first sign-in and links the subject to it; `None` when another node
    /// linked the subject first. The name: `preferred_username`, else the e-mail's local part,
    /// else the subject; `-2`, `-3`, … appended while it is taken.
    async fn oidc_provision(&self, issuer: &str, id: &Identity, now: Timestamp) -> Result<Option<OidcLink>, OidcError> {
        let email = id.email.as_deref().and_then(|e| validate_email(e).ok());
        let base = [
            id.preferred_username.as_deref(),
            email.as_deref().and_then(|e| e.split('@').next()),
            Some(id.subject.as_str()),
        ]
        .into_iter()
        .flatten()
        .find_map(name_from)
        .unwrap_or_else(|| "user".to_owned());
        let candidates = std::iter::once(base.clone())
            .chain((2..=50).map(|n| format!("{base}-{n}")))
            .chain(std::iter::once_with(|| {
                format!("{base}-{}", hex::encode(random::bytes::<4>()))
            }));
        for name in candidates {
            if self.store.user_by_name(&name).await?.is_some() {
                continue;
            }
            let user = User {
                id: crate::incidents::new_id(now),
                email: email.clone().unwrap_or_else(|| format!("{name}@oidc.invalid")),
                name,
                pgp_key: None,
                groups: id.groups.clone(),
                is_admin: false,
                created_at: now,
                disabled_at: None,
            };
            let link = OidcLink {
                issuer: issuer.to_owned(),
                subject: id.subject.clone(),
                user_id: user.id,
                linked_at: now,
                last_sign_in_at: now,
            };
            let audit = draft(
                now,
                &user.name,
                "user.create",
                format!("user:{}", user.name),
                json!({ "via": "oidc", "issuer": issuer, "subject": id.subject, "email": user.email,
                        "groups": user.groups, "ignored_groups": id.ignored_groups, "admin": false }),
            );
            match self.store.create_oidc_user(&user, &link, audit).await {
                Ok(()) => return Ok(Some(link)),
                Err(StoreError::Conflict("user")) => continue,
                Err(StoreError::Conflict(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Conflict("no free user name for this identity".into()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_site() {
        assert_eq!(safe_next(Some("/incidents/x?tab=team")), "/incidents/x?tab=team");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn names_from_claims() {
        assert_eq!(name_from("Alice.Smith").as_deref(), Some("alice.smith"));
        assert_eq!(name_from("alice smith").as_deref(), Some("alice-smith"));
        assert_eq!(name_from("__x").as_deref(), Some("x"));
        assert_eq!(name_from("山田"), None);
        assert_eq!(name_from(&"a".repeat(100)).map(|n| n.len()), Some(56));
    }

    #[test]
    fn groups_from_the_claim() {
        let (kept, ignored) = groups_from(Some(&json!(["IR-Lead", "/security", "ir-lead", "Legal Team", 3])));
        assert_eq!(kept, ["ir-lead", "security"]);
        assert_eq!(ignored, ["Legal Team"]);
        assert_eq!(groups_from(Some(&json!("ops"))).0, ["ops"]);
        assert!(groups_from(None).0.is_empty());
    }
}
