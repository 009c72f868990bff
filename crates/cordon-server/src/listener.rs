//! The accept loop: HTTP/1.1 over hyper, with the limits that keep slow or idle clients from
//! starving everyone else (issue 12, finding 7: ~20,000 half-sent requests used up the file
//! descriptors and `accept` failed for everyone).
//!
//! - A request head must be complete within `header_timeout` of its first byte; a connection
//!   that sends nothing for `idle_timeout` (before its first request or between two) is closed.
//!   A request body that sends nothing for `body_idle_timeout` fails with 408 (so uploads of any
//!   length work as long as bytes keep coming); request timeouts are the router's
//!   (`crate::edge`).
//! - At most `max_connections` connections are open (default: derived from the file-descriptor
//!   limit, whose soft value is raised to the hard one at start). At the cap a new client is
//!   still served: the oldest connection that is not inside a request (a half-sent head, an idle
//!   keep-alive) is closed to make room. Only when every open connection is inside a request is
//!   the newcomer closed at once. When `accept` itself runs out of descriptors, the oldest such
//!   connection is closed too.
//! - Shutdown stops accepting, lets requests in flight finish for `shutdown_grace`, then closes
//!   every connection that is left.
//! - hyper answers request heads it cannot take (400 malformed, 414 request line over 64 KiB,
//!   431 head over the read buffer) on its own, with an empty body; on a connection's first
//!   request that answer is rewritten here into a problem document, like every other error.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::problem::Problem;

/// The largest request head hyper buffers (request line and headers). Heads between the
/// router's own limits (`crate::edge`) and this one are refused by the router as problem
/// documents; larger ones by hyper itself.
pub const MAX_HEAD_BYTES: usize = 256 * 1024;

/// Connection-level limits of the HTTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeLimits {
    /// A request head must be complete this long after its first byte arrived.
    pub header_timeout: Duration,
    /// A connection that sends nothing this long, before a request or between requests, is
    /// closed.
    pub idle_timeout: Duration,
    /// A request body that sends nothing this long fails (408); the total time of an upload is
    /// not bounded.
    pub body_idle_timeout: Duration,
    /// Open connections at most; `None`: derived from the file-descriptor limit
    /// ([`default_max_connections`]).
    pub max_connections: Option<usize>,
    /// How long shutdown waits for requests in flight before it closes their connections.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_idle_timeout: Duration::from_secs(60),
            max_connections: None,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Raises the soft limit on open files to the hard one (as far as the system allows) and
/// returns the soft limit in force afterwards.
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "could not read or raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(1024)
        }
    }
}

/// The connection cap for a process that may open `fd_limit` files: a quarter of them (at
/// least 256) stay for the database, indexes, evidence and outbound calls; at most 20,000
/// connections either way (each holds buffers; past that, raise it in the config).
pub fn default_max_connections(fd_limit: u64) -> usize {
    let reserve = (fd_limit / 4).max(256);
    let cap = fd_limit.saturating_sub(reserve).clamp(16, 20_000);
    usize::try_from(cap).unwrap_or(20_000)
}

/// Serves `app` on `listener` with `limits` until `shutdown` resolves; then stops accepting,
/// waits up to `limits.shutdown_grace` for requests in flight, and closes what is left.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let fd_limit = raise_fd_limit();
    let cap = limits
        .max_connections
        .unwrap_or_else(|| default_max_connections(fd_limit))
        .max(1);
    if cap as u64 + 64 > fd_limit {
        tracing::warn!(
            cap,
            fd_limit,
            "the connection cap leaves almost no file descriptors for anything else"
        );
    }
    let registry = Arc::new(Registry::new(cap));
    let limits = Arc::new(limits);
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        // The exact header and idle deadlines are kept by each connection's task; hyper's own
        // timer only backs them up.
        .header_read_timeout(limits.idle_timeout + limits.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let builder = Arc::new(builder);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut refused_logged = Instant::now() - Duration::from_secs(60);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Some(conn) = registry.admit() else {
                        if refused_logged.elapsed() > Duration::from_secs(10) {
                            tracing::warn!(cap, "connection cap reached with every connection inside a request; refusing new ones");
                            refused_logged = Instant::now();
                        }
                        drop(stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    tasks.spawn(serve_connection(
                        stream,
                        peer,
                        app.clone(),
                        conn,
                        registry.clone(),
                        limits.clone(),
                        builder.clone(),
                        stop_rx.clone(),
                    ));
                }
                Err(e) => {
                    // Out of descriptors (or another per-connection error): make room by
                    // closing the oldest idle connection, else wait a moment.
                    if !(out_of_descriptors(&e) && registry.evict_oldest_idle()) {
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = tasks.len(),
            "closing the connections still busy after the shutdown grace period"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

fn out_of_descriptors(e: &io::Error) -> bool {
    // EMFILE (24) and ENFILE (23) on Linux; other systems name them differently, and a plain
    // wait is the fallback there.
    matches!(e.raw_os_error(), Some(23 | 24))
}

#[allow(clippy::too_many_arguments)]
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    conn: Arc<Conn>,
    registry: Arc<Registry>,
    limits: Arc<ServeLimits>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    mut stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(TrackedIo {
        inner: stream,
        conn: conn.clone(),
        rewrite: Rewrite::Watching,
    });
    let service = {
        let conn = conn.clone();
        let body_idle = limits.body_idle_timeout;
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let app = app.clone();
            let guard = conn.begin_request();
            async move {
                let timed_out = BodyTimedOut::default();
                let (mut parts, body) = req.into_parts();
                parts.extensions.insert(ConnectInfo(peer));
                parts.extensions.insert(timed_out.clone());
                let body = Body::new(IdleBody {
                    inner: body,
                    idle: body_idle,
                    sleep: None,
                    timed_out,
                });
                let res = match app.oneshot(Request::from_parts(parts, body)).await {
                    Ok(res) => res,
                    Err(never) => match never {},
                };
                Ok::<_, Infallible>(res.map(|inner| Body::new(GuardedBody { inner, _guard: guard })))
            }
        })
    };
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let deadline = tokio::time::sleep_until(conn.deadline(&limits));
    tokio::pin!(deadline);
    let mut stopping = *stop.borrow();
    if stopping {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            r = connection.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                break;
            }
            () = conn.evict.notified() => {
                tracing::debug!(%peer, "closing an idle connection to make room for a new one");
                break;
            }
            () = conn.poke.notified() => deadline.as_mut().reset(conn.deadline(&limits)),
            () = &mut deadline => {
                if conn.expired(&limits) {
                    tracing::debug!(%peer, "closing a connection that was idle, or slow to send its request head");
                    break;
                }
                deadline.as_mut().reset(conn.deadline(&limits));
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
    registry.remove(conn.id);
}

// ---------- the connections ----------

/// What the accept loop and a connection's task know about one connection.
struct Conn {
    id: u64,
    epoch: Instant,
    /// Requests handed to the router so far.
    requests: AtomicU64,
    /// Requests whose response has not ended yet.
    in_flight: AtomicUsize,
    /// Milliseconds since `epoch` (+1) of the first byte of the request head being read; 0: none.
    head_started: AtomicU64,
    /// Milliseconds since `epoch` at which the connection last became idle.
    idle_since: AtomicU64,
    /// Close now: the slot is given to a new connection.
    evict: Notify,
    /// The deadline changed (a head started, a response ended).
    poke: Notify,
}

enum Deadline {
    At(u64),
    /// Inside a request: no connection deadline (the router's timeouts apply).
    None,
}

impl Conn {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn begin_request(self: &Arc<Self>) -> RequestGuard {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Release);
        self.poke.notify_one();
        RequestGuard(self.clone())
    }

    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 && self.head_started.load(Ordering::Acquire) == 0 {
            self.head_started.store(self.now_ms() + 1, Ordering::Release);
            self.poke.notify_one();
        }
    }

    fn due(&self, limits: &ServeLimits) -> Deadline {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Deadline::None;
        }
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match self.head_started.load(Ordering::Acquire) {
            0 => Deadline::At(
                self.idle_since
                    .load(Ordering::Acquire)
                    .saturating_add(ms(limits.idle_timeout)),
            ),
            started => Deadline::At((started - 1).saturating_add(ms(limits.header_timeout))),
        }
    }

    fn expired(&self, limits: &ServeLimits) -> bool {
        matches!(self.due(limits), Deadline::At(at) if self.now_ms() >= at)
    }

    fn deadline(&self, limits: &ServeLimits) -> Instant {
        match self.due(limits) {
            Deadline::At(ms) => self.epoch + Duration::from_millis(ms),
            // Woken by `poke` when the request ends.
            Deadline::None => Instant::now() + Duration::from_secs(3600),
        }
    }
}

/// Held while a request is in flight: from the router's call until its response body ends.
struct RequestGuard(Arc<Conn>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let conn = &self.0;
        conn.idle_since.store(conn.now_ms(), Ordering::Release);
        conn.in_flight.fetch_sub(1, Ordering::AcqRel);
        conn.poke.notify_one();
    }
}

/// The open connections, oldest first.
struct Registry {
    cap: usize,
    epoch: Instant,
    next_id: AtomicU64,
    conns: Mutex<BTreeMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for a new connection: at the cap, the oldest connection outside a request
    /// gives up its slot; `None` when every connection is inside a request.
    fn admit(&self) -> Option<Arc<Conn>> {
        let mut conns = self.lock();
        if conns.len() >= self.cap && !Self::evict_from(&mut conns) {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            epoch: self.epoch,
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            head_started: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            evict: Notify::new(),
            poke: Notify::new(),
        });
        conn.idle_since.store(conn.now_ms(), Ordering::Release);
        conns.insert(id, conn.clone());
        Some(conn)
    }

    fn evict_oldest_idle(&self) -> bool {
        Self::evict_from(&mut self.lock())
    }

    fn evict_from(conns: &mut BTreeMap<u64, Arc<Conn>>) -> bool {
        let victim = conns
            .iter()
            .find(|(_, c)| c.in_flight.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id);
        match victim.and_then(|id| conns.remove(&id)) {
            Some(conn) => {
                conn.evict.notify_one();
                true
            }
            None => false,
        }
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }
}

// ---------- bodies ----------

/// Set when a request body sent nothing for the body idle timeout; the router turns the
/// response into a 408 problem (`crate::edge`).
#[derive(Debug, Clone, Default)]
pub(crate) struct BodyTimedOut(Arc<AtomicBool>);

impl BodyTimedOut {
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A request body that fails when no bytes arrive for `idle`.
struct IdleBody {
    inner: Incoming,
    idle: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: BodyTimedOut,
}

#[derive(Debug)]
struct BodyIdleError(Duration);

impl std::fmt::Display for BodyIdleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body sent nothing for {} s", self.0.as_secs())
    }
}

impl std::error::Error for BodyIdleError {}

impl http_body::Body for IdleBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.sleep = None;
                Poll::Ready(frame.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                let idle = this.idle;
                let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                ready!(sleep.as_mut().poll(cx));
                this.timed_out.0.store(true, Ordering::Release);
                Poll::Ready(Some(Err(Box::new(BodyIdleError(idle)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its request counted as in flight until it ends.
struct GuardedBody {
    inner: Body,
    _guard: RequestGuard,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

// ---------- the socket ----------

enum Rewrite {
    /// Nothing written yet on a connection without requests.
    Watching,
    /// hyper's bodiless error answer, replaced by this problem response; bytes sent so far.
    Pending(Vec<u8>, usize),
    Done,
}

/// The TCP stream as hyper sees it: reads mark the start of a request head; hyper's own error
/// answer to a first request is replaced by a problem document.
struct TrackedIo {
    inner: TcpStream,
    conn: Arc<Conn>,
    rewrite: Rewrite,
}

impl TrackedIo {
    /// hyper writes nothing before the router answered a request, except its own answer to a
    /// head it could not take: that is the only write that can come while `requests == 0`.
    fn take_auto_response(&mut self, first: &[u8]) -> bool {
        if !matches!(self.rewrite, Rewrite::Watching) {
            return false;
        }
        if self.conn.requests.load(Ordering::Acquire) != 0 {
            self.rewrite = Rewrite::Done;
            return false;
        }
        match problem_for_hyper_answer(first) {
            Some(bytes) => {
                self.rewrite = Rewrite::Pending(bytes, 0);
                true
            }
            None => {
                self.rewrite = Rewrite::Done;
                false
            }
        }
    }

    /// Writes what is left of a replaced answer.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Rewrite::Pending(bytes, sent) = &mut self.rewrite {
            if *sent >= bytes.len() {
                self.rewrite = Rewrite::Done;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *sent += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// The problem response replacing hyper's bodiless `HTTP/1.1 400|414|431 …` answer.
fn problem_for_hyper_answer(written: &[u8]) -> Option<Vec<u8>> {
    let status = written.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let status = StatusCode::from_bytes(status).ok()?;
    let detail = match status {
        StatusCode::BAD_REQUEST => "the request line or a header is malformed",
        StatusCode::URI_TOO_LONG => "the request line is too long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "the request head is too large",
        _ => return None,
    };
    let body = serde_json::to_vec(&Problem::for_status(status, detail)).ok()?;
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    Some(out)
}

impl AsyncRead for TrackedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.conn.bytes_read();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.take_auto_response(buf) {
            // hyper's answer is taken whole; the replacement goes out on this and later calls.
            let _ = self.poll_drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && self.take_auto_response(first)
        {
            let _ = self.poll_drain(cx)?;
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_descriptors_for_the_rest() {
        assert_eq!(default_max_connections(1024), 768);
        assert_eq!(default_max_connections(256), 16);
        assert_eq!(default_max_connections(4096), 3072);
        assert_eq!(default_max_connections(1 << 20), 20_000);
    }

    #[test]
    fn hyper_answers_become_problem_documents() {
        let out = problem_for_hyper_answer(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{text}");
        assert!(text.contains("content-type: application/problem+json\r\n"), "{text}");
        let body = text.split("\r\n\r\n").nth(1).unwrap();
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["code"], "uri_too_long");
        assert_eq!(v["status"], 414);
        assert!(problem_for_hyper_answer(b"HTTP/1.1 200 OK\r\n").is_none());
        assert!(problem_for_hyper_answer(b"GET / HTTP/1.1\r\n").is_none());
    }
}
