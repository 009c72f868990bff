//! Browser tests' helper: one headless Debian Chromium per test binary, shared by its tests,
//! each test in browser contexts of its own (own cookies, own storage), driven by
//! `playwright-core` through a small Node process (`browser_driver.cjs`) speaking JSON lines.
//!
//! ```ignore
//! let app = common::spawn_app().await;
//! let Some(browser) = browser::shared() else { return };   // None only when skipped locally
//! let page = browser.page_in("ja").await;                   // locale + Accept-Language: ja
//! page.goto(&format!("{}/login", app.base)).await;
//! page.fill_name("username", "alice").await;
//! page.click_button("サインイン").await;
//! page.wait_for_text("main", "インシデント", LIVE).await;
//! page.assert_accessible().await;                           // axe-core: no serious/critical
//! ```
//!
//! Every method panics with the driver's message when its action fails (an element that does
//! not appear within [`ACTION_TIMEOUT`] fails the action); a page dropped while its test
//! panics saves a screenshot and its HTML under [`artifacts_dir`] and prints where.
//!
//! What is installed where: `scripts/test-env-browser.sh` (Debian's `chromium`, and
//! `playwright-core` and `axe-core` from npm under /var/tmp/cordon-it/browser). A missing
//! browser fails the test with the command to run; `CORDON_TEST_BROWSER=skip` skips the browser
//! tests loudly, except under CI (`CI` set), where they must run.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// How long an action (fill, click, text) waits for its element; set in the driver.
pub const ACTION_TIMEOUT: Duration = Duration::from_secs(5);
/// What the issue asks of live updates: on every open page within a second.
pub const LIVE: Duration = Duration::from_secs(1);
/// A request the driver has not answered by then means a hung browser.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/browser_driver.cjs");
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
const DEFAULT_NODE_MODULES: &str = "/var/tmp/cordon-it/browser/node_modules";
const INSTALL: &str = "run `eval \"$(scripts/test-env-browser.sh)\"` (installs Debian's chromium and \
                       the pinned playwright-core and axe-core)";

type Answer = Result<Value, String>;

/// The shared browser: the driver process, and the requests waiting for its answer.
pub struct Browser {
    stdin: Mutex<ChildStdin>,
    pending: Arc<Mutex<Pending>>,
    next_id: AtomicU64,
    version: String,
    log: PathBuf,
    _child: Mutex<Child>,
}

#[derive(Default)]
struct Pending {
    waiting: HashMap<u64, oneshot::Sender<Answer>>,
    /// Set when the driver's output ended: every later request fails at once with it.
    gone: Option<String>,
}

static SHARED: OnceLock<Option<Browser>> = OnceLock::new();

/// The test binary's browser, started on first use; `None` when the browser tests are skipped
/// (`CORDON_TEST_BROWSER=skip`, refused under CI).
///
/// # Panics
/// When Chromium, Node.js or the npm packages are missing, or the browser does not start.
pub fn shared() -> Option<&'static Browser> {
    let browser = SHARED.get_or_init(start).as_ref();
    if browser.is_none() {
        // Straight to the process's stderr: the test harness captures `eprintln!` of passing
        // tests, and a skip must be seen.
        let test = std::thread::current().name().unwrap_or("test").to_owned();
        let _ = writeln!(
            std::io::stderr(),
            "!!! CORDON_TEST_BROWSER=skip: {test} SKIPPED, nothing was checked in a browser !!!"
        );
    }
    browser
}

fn start() -> Option<Browser> {
    if std::env::var("CORDON_TEST_BROWSER").is_ok_and(|v| v == "skip") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CORDON_TEST_BROWSER=skip under CI: CI must run the browser tests; .ci/run installs \
             the browser with scripts/test-env-browser.sh"
        );
        return None;
    }
    let chromium = env_path("CORDON_CHROMIUM", DEFAULT_CHROMIUM);
    assert!(
        chromium.is_file(),
        "Chromium not found at {} (CORDON_CHROMIUM): {INSTALL}, or set CORDON_TEST_BROWSER=skip \
         to skip the browser tests outside CI",
        chromium.display()
    );
    let modules = env_path("CORDON_BROWSER_NODE_MODULES", DEFAULT_NODE_MODULES);
    for package in ["playwright-core", "axe-core"] {
        assert!(
            modules.join(package).join("package.json").is_file(),
            "{package} not found in {} (CORDON_BROWSER_NODE_MODULES): {INSTALL}",
            modules.display()
        );
    }
    let log = artifacts_dir().join(format!("driver-{}.log", std::process::id()));
    let mut child = Command::new("node")
        .arg(DRIVER)
        .env("CORDON_CHROMIUM", &chromium)
        .env("CORDON_BROWSER_NODE_MODULES", &modules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("the driver's log file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` (Node.js) for the browser driver: {e}; {INSTALL}"));
    let stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));

    // The first line says whether the browser started.
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the driver's first line");
    let hello: Value = serde_json::from_str(&first).unwrap_or_else(|_| {
        panic!(
            "the browser driver did not start: {first:?}; its log {}:\n{}",
            log.display(),
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    let version = match (&hello["ready"]["version"], &hello["fatal"]) {
        (Value::String(v), _) => v.clone(),
        (_, fatal) => panic!("Chromium did not start ({}): {fatal}", chromium.display()),
    };

    let pending = Arc::new(Mutex::new(Pending::default()));
    let answers = pending.clone();
    let log_for_reader = log.clone();
    std::thread::Builder::new()
        .name("browser-driver".into())
        .spawn(move || read_answers(stdout, &answers, &log_for_reader))
        .expect("the driver's reader thread");
    Some(Browser {
        stdin: Mutex::new(stdin),
        pending,
        next_id: AtomicU64::new(1),
        version,
        log,
        _child: Mutex::new(child),
    })
}

/// Hands each answer line to the request waiting for it; when the driver's output ends, fails
/// every waiting and later request with the driver's log.
fn read_answers(stdout: impl BufRead, pending: &Mutex<Pending>, log: &Path) {
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        let Ok(answer) = serde_json::from_str::<Value>(&line) else {
            eprintln!("browser driver: {line}");
            continue;
        };
        let Some(id) = answer["id"].as_u64() else { continue };
        let result = match answer.get("error") {
            Some(e) => Err(e.as_str().unwrap_or_default().to_owned()),
            None => Ok(answer["ok"].clone()),
        };
        if let Some(waiter) = pending.lock().unwrap().waiting.remove(&id) {
            let _ = waiter.send(result);
        }
    }
    let why = format!(
        "the browser driver exited; its log {}:\n{}",
        log.display(),
        std::fs::read_to_string(log).unwrap_or_default()
    );
    let mut p = pending.lock().unwrap();
    for (_, waiter) in p.waiting.drain() {
        let _ = waiter.send(Err(why.clone()));
    }
    p.gone = Some(why);
}

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Where failure screenshots, their HTML and the driver's log go:
/// `$CORDON_BROWSER_ARTIFACTS`, else `browser/` in cargo's per-target temporary directory.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("CORDON_BROWSER_ARTIFACTS")
        .map_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser"), PathBuf::from);
    std::fs::create_dir_all(&dir).expect("the browser artifacts directory");
    dir
}

impl Browser {
    /// Chromium's version, e.g. `156.0.8078.114`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A page in a new context, in English (`en-US`, `Accept-Language: en-US,en`).
    pub async fn page(&'static self) -> Page {
        self.page_with(PageOptions::language("en-US")).await
    }

    /// A page in a new context whose browser speaks `lang` (e.g. `ja`): the locale and
    /// `Accept-Language`.
    pub async fn page_in(&'static self, lang: &str) -> Page {
        self.page_with(PageOptions::language(lang)).await
    }

    pub async fn page_with(&'static self, options: PageOptions) -> Page {
        let test = std::thread::current().name().unwrap_or("test").to_owned();
        let mut req = json!({});
        if let Some(l) = &options.locale {
            req["locale"] = json!(l);
        }
        if let Some(a) = &options.accept_language {
            req["acceptLanguage"] = json!(a);
        }
        let ok = self
            .call("newContext", req)
            .await
            .unwrap_or_else(|e| panic!("browser: a new context for {test}: {e}"));
        Page {
            browser: self,
            ctx: ok["ctx"].as_str().expect("a context id").to_owned(),
            test,
            closed: false,
        }
    }

    fn send(&self, op: &str, mut req: Value) -> oneshot::Receiver<Answer> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut p = self.pending.lock().unwrap();
            if let Some(why) = &p.gone {
                let _ = tx.send(Err(why.clone()));
                return rx;
            }
            p.waiting.insert(id, tx);
        }
        req["id"] = json!(id);
        req["op"] = json!(op);
        let mut line = serde_json::to_vec(&req).expect("a request");
        line.push(b'\n');
        let mut stdin = self.stdin.lock().unwrap();
        if let Err(e) = stdin.write_all(&line).and_then(|()| stdin.flush())
            && let Some(tx) = self.pending.lock().unwrap().waiting.remove(&id)
        {
            let _ = tx.send(Err(format!(
                "the browser driver does not listen ({e}); its log: {}",
                self.log.display()
            )));
        }
        rx
    }

    async fn call(&self, op: &str, req: Value) -> Answer {
        match tokio::time::timeout(ANSWER_TIMEOUT, self.send(op, req)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err("the browser driver dropped the request".into()),
            Err(_) => Err(format!("no answer from the browser in {ANSWER_TIMEOUT:?}")),
        }
    }

    /// For `Drop`, which cannot await: the reader is a thread of its own, so blocking here
    /// cannot starve it.
    fn call_blocking(&self, op: &str, req: Value) -> Answer {
        futures::executor::block_on(self.send(op, req))
            .unwrap_or_else(|_| Err("the browser driver dropped the request".into()))
    }
}

/// How a page's browser presents itself.
#[derive(Debug, Clone, Default)]
pub struct PageOptions {
    /// `navigator.language` and the `Intl` default, e.g. `ja-JP`.
    pub locale: Option<String>,
    /// The `Accept-Language` header sent with every request.
    pub accept_language: Option<String>,
}

impl PageOptions {
    /// A browser set to `lang`: locale `lang`, `Accept-Language: lang` (plus its primary
    /// language as a fallback, as browsers send it: `en-US,en;q=0.9`).
    pub fn language(lang: &str) -> Self {
        let primary = lang.split('-').next().unwrap_or(lang);
        let accept = if primary == lang {
            lang.to_owned()
        } else {
            format!("{lang},{primary};q=0.9")
        };
        Self {
            locale: Some(lang.to_owned()),
            accept_language: Some(accept),
        }
    }
}

/// A cookie as the browser holds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub domain: String,
    pub path: String,
    /// Unix seconds; -1 for a session cookie.
    pub expires: f64,
    pub http_only: bool,
    pub secure: bool,
    /// `Strict`, `Lax` or `None`.
    pub same_site: String,
}

/// An axe-core rule the page breaks, with the elements that break it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AxeViolation {
    /// The rule, e.g. `button-name`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    pub help: String,
    pub help_url: String,
    /// CSS selectors of the offending elements.
    pub targets: Vec<String>,
}

impl std::fmt::Display for AxeViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {} at {} — {}",
            self.id,
            self.impact.as_deref().unwrap_or("?"),
            self.help,
            self.targets.join(", "),
            self.help_url
        )
    }
}

/// One tab in a browser context of its own. Closed when dropped; dropped during a panic, it
/// first saves a screenshot and the HTML for the failure report.
pub struct Page {
    browser: &'static Browser,
    ctx: String,
    test: String,
    closed: bool,
}

impl Page {
    async fn call(&self, op: &str, mut req: Value) -> Value {
        req["ctx"] = json!(self.ctx);
        let shown = req.to_string();
        self.browser
            .call(op, req)
            .await
            .unwrap_or_else(|e| panic!("browser: {op} failed in {}: {e}\n  request: {shown}", self.test))
    }

    /// Opens `url`, waiting for its load event; the main document's HTTP status (`None` for a
    /// `data:` URL).
    pub async fn goto(&self, url: &str) -> Option<u16> {
        let ok = self.call("goto", json!({ "url": url })).await;
        ok["status"].as_u64().map(|s| u16::try_from(s).expect("an HTTP status"))
    }

    /// Types `value` into the field whose label is exactly `label` (`<label for>`,
    /// `aria-label` or `aria-labelledby`), replacing what was there.
    pub async fn fill_label(&self, label: &str, value: &str) {
        self.call("fill", json!({ "label": label, "value": value })).await;
    }

    /// Types `value` into the field named `name` (its `name` attribute, as the form posts it).
    pub async fn fill_name(&self, name: &str, value: &str) {
        self.call("fill", json!({ "name": name, "value": value })).await;
    }

    /// Chooses the option whose text is exactly `option` in the select whose label is exactly
    /// `label`.
    pub async fn select_label(&self, label: &str, option: &str) {
        self.call("select", json!({ "label": label, "option": option })).await;
    }

    /// Clicks the button whose accessible name is exactly `name`.
    pub async fn click_button(&self, name: &str) {
        self.call("click", json!({ "role": "button", "name": name })).await;
    }

    /// Clicks the link whose accessible name is exactly `name`.
    pub async fn click_link(&self, name: &str) {
        self.call("click", json!({ "role": "link", "name": name })).await;
    }

    /// The current value of the first form field matching `selector`.
    pub async fn value(&self, selector: &str) -> String {
        let ok = self.call("value", json!({ "selector": selector })).await;
        ok["value"].as_str().unwrap_or_default().to_owned()
    }

    /// Holds back this page's requests whose path ends with `suffix` until [`Page::release`]
    /// (set before the page asks).
    pub async fn hold(&self, suffix: &str) {
        self.call("hold", json!({ "suffix": suffix })).await;
    }

    /// Lets this page's requests whose path ends with `suffix` reach the server but holds
    /// back their answers until [`Page::release`] (a slow answer).
    pub async fn hold_answers(&self, suffix: &str) {
        self.call("hold", json!({ "suffix": suffix, "answers": true })).await;
    }

    /// Lets the held requests go, and every later one.
    pub async fn release(&self) {
        self.call("release", json!({})).await;
    }

    /// Clicks the first element matching the CSS `selector`.
    pub async fn click(&self, selector: &str) {
        self.call("click", json!({ "selector": selector })).await;
    }

    /// Presses a key on the focused element, e.g. `Tab`, `Enter`, `Shift+Tab`.
    pub async fn press(&self, key: &str) {
        self.call("press", json!({ "key": key })).await;
    }

    /// The rendered text of the first element matching `selector` (waits for it to exist).
    pub async fn text(&self, selector: &str) -> String {
        let ok = self.call("text", json!({ "selector": selector })).await;
        ok["text"].as_str().unwrap_or_default().to_owned()
    }

    /// The rendered text of every element matching `selector` (none is an empty list).
    pub async fn texts(&self, selector: &str) -> Vec<String> {
        let ok = self.call("texts", json!({ "selector": selector })).await;
        serde_json::from_value(ok["texts"].clone()).expect("a list of texts")
    }

    /// An attribute of the first element matching `selector` (waits for it to exist).
    pub async fn attribute(&self, selector: &str, name: &str) -> Option<String> {
        let ok = self
            .call("attribute", json!({ "selector": selector, "name": name }))
            .await;
        ok["value"].as_str().map(str::to_owned)
    }

    /// How many elements match `selector` now (no waiting).
    pub async fn count(&self, selector: &str) -> usize {
        let ok = self.call("count", json!({ "selector": selector })).await;
        usize::try_from(ok["count"].as_u64().expect("a count")).expect("a count")
    }

    /// Waits until an element matching `selector` shows `text` (a substring of its rendered
    /// text) and returns how long that took; panics after `timeout`. With [`LIVE`] it checks
    /// the issue's "appears within a second".
    pub async fn wait_for_text(&self, selector: &str, text: &str, timeout: Duration) -> Duration {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let ok = self
            .call(
                "waitForText",
                json!({ "selector": selector, "text": text, "timeoutMs": ms }),
            )
            .await;
        Duration::from_secs_f64(ok["elapsedMs"].as_f64().unwrap_or_default() / 1000.0)
    }

    /// The page's current URL.
    pub async fn url(&self) -> String {
        let ok = self.call("url", json!({})).await;
        ok["url"].as_str().unwrap_or_default().to_owned()
    }

    /// The current URL's path (and query), e.g. `/` after signing in.
    pub async fn path(&self) -> String {
        let url = self.url().await;
        let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        after_scheme
            .find('/')
            .map_or_else(|| "/".to_owned(), |i| after_scheme[i..].to_owned())
    }

    /// The document's `<title>`.
    pub async fn title(&self) -> String {
        let ok = self.call("title", json!({})).await;
        ok["title"].as_str().unwrap_or_default().to_owned()
    }

    /// The page's HTML as the browser has it now.
    pub async fn html(&self) -> String {
        let ok = self.call("content", json!({})).await;
        ok["html"].as_str().unwrap_or_default().to_owned()
    }

    /// The cookies this page's context holds (every other context has its own).
    pub async fn cookies(&self) -> Vec<Cookie> {
        let ok = self.call("cookies", json!({})).await;
        serde_json::from_value(ok["cookies"].clone()).expect("cookies")
    }

    pub async fn cookie(&self, name: &str) -> Option<Cookie> {
        self.cookies().await.into_iter().find(|c| c.name == name)
    }

    /// Console errors and uncaught exceptions seen so far (a CSP violation is one).
    pub async fn console_errors(&self) -> Vec<String> {
        let ok = self.call("consoleErrors", json!({})).await;
        serde_json::from_value(ok["errors"].clone()).expect("a list of errors")
    }

    /// Runs axe-core on the page as it is now; the violations of impact serious or critical.
    pub async fn axe(&self) -> Vec<AxeViolation> {
        let ok = self.call("axe", json!({})).await;
        let all: Vec<AxeViolation> = serde_json::from_value(ok["violations"].clone()).expect("violations");
        all.into_iter()
            .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
            .collect()
    }

    /// Panics, listing them, when axe-core finds serious or critical violations.
    pub async fn assert_accessible(&self) {
        let violations = self.axe().await;
        if !violations.is_empty() {
            let url = self.url().await;
            let list: Vec<String> = violations.iter().map(|v| format!("  - {v}")).collect();
            panic!(
                "axe-core: serious or critical violations on {url}:\n{}",
                list.join("\n")
            );
        }
    }

    /// Saves a full-page PNG screenshot to `path`.
    pub async fn screenshot(&self, path: &Path) {
        self.call("screenshot", json!({ "path": path })).await;
    }

    /// Closes the context and waits until it is closed (dropping the page closes it too,
    /// without waiting).
    pub async fn close(mut self) {
        self.closed = true;
        self.call("closeContext", json!({})).await;
    }

    fn save_failure(&self) {
        let stem: String = self
            .test
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let png = artifacts_dir().join(format!("{stem}-{}.png", self.ctx));
        let shot = self
            .browser
            .call_blocking("screenshot", json!({ "ctx": self.ctx, "path": png }));
        let url = self.browser.call_blocking("url", json!({ "ctx": self.ctx }));
        if let Ok(html) = self.browser.call_blocking("content", json!({ "ctx": self.ctx })) {
            let _ = std::fs::write(png.with_extension("html"), html["html"].as_str().unwrap_or_default());
        }
        let url = url.map_or_else(|e| e, |u| u["url"].as_str().unwrap_or_default().to_owned());
        match shot {
            Ok(_) => eprintln!(
                "browser: {} failed on {url}; screenshot {} (and .html)",
                self.test,
                png.display()
            ),
            Err(e) => eprintln!("browser: {} failed on {url}; no screenshot: {e}", self.test),
        }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        if std::thread::panicking() {
            self.save_failure();
        }
        // Not awaited: the answer is of no interest.
        drop(self.browser.send("closeContext", json!({ "ctx": self.ctx })));
    }
}
