//! Processes and browser session for the browser tests.
//!
//! Every test starts its own copies of the real `tsunagu` binary (fresh SQLite database in a
//! temp dir, free loopback port) and of chromedriver + headless Chromium (fresh profile), so
//! tests are independent and may run in parallel. Everything is torn down by `Drop` guards,
//! also when an assertion panics.
//!
//! Environment:
//! - `CHROMEDRIVER` — chromedriver binary (default `/usr/bin/chromedriver`)
//! - `CHROMIUM` — Chromium binary (default `/usr/bin/chromium`)

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tempfile::TempDir;

/// How long the server may take to answer `/healthz` (debug build, migrations on first start).
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long chromedriver may take to answer `/status`.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, drop the listener).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("local address of the probe listener")
        .port()
}

/// A minimal HTTP/1.1 `GET` to 127.0.0.1 with `Connection: close`. Returns the status code
/// and the raw body (not de-chunked: only for readiness checks and diagnostics).
pub fn http_get(port: u16, path: &str, timeout: Duration) -> io::Result<(u16, String)> {
    http_request(port, "GET", path, timeout)
}

/// A minimal body-less HTTP/1.1 request to 127.0.0.1 (blocking; usable in `Drop`).
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    timeout: Duration,
) -> io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // Read until the response is complete: some servers (chromedriver) keep the connection
    // open despite `Connection: close`, so EOF cannot be the only end marker.
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if response_complete(&raw) {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "not an HTTP response: {:?}",
                    text.chars().take(200).collect::<String>()
                ),
            )
        })?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Whether `raw` holds a whole HTTP/1.1 response (headers plus a `Content-Length` body or a
/// complete chunked body).
fn response_complete(raw: &[u8]) -> bool {
    let Some(header_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let headers = String::from_utf8_lossy(&raw[..header_end]).to_ascii_lowercase();
    let body = &raw[header_end + 4..];
    for line in headers.lines() {
        if let Some(value) = line.strip_prefix("content-length:") {
            return value
                .trim()
                .parse::<usize>()
                .is_ok_and(|len| body.len() >= len);
        }
        if line.starts_with("transfer-encoding:") && line.contains("chunked") {
            return body.ends_with(b"0\r\n\r\n");
        }
    }
    false
}

/// A child process that is killed (and reaped) when dropped. Its stdout and stderr go to a
/// log file whose tail is shown when something goes wrong.
pub struct ChildGuard {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    fn spawn(name: &'static str, mut cmd: Command, log: PathBuf) -> Self {
        let out = File::create(&log)
            .unwrap_or_else(|e| panic!("create log file {} for {name}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("clone log file handle for {name}: {e}"));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "could not start {name} ({}): {e}",
                cmd.get_program().to_string_lossy()
            )
        });
        ChildGuard { name, child, log }
    }

    /// The last few kB of the process's output.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| format!("(could not read {}: {e})", self.log.display()));
        let chars: Vec<char> = text.chars().collect();
        let start = chars.len().saturating_sub(4000);
        chars[start..].iter().collect()
    }

    /// Panics with the process's output if it has already exited.
    fn assert_running(&mut self) {
        match self.child.try_wait() {
            Ok(None) => {}
            Ok(Some(status)) => panic!(
                "{} exited early ({status}); its output:\n{}",
                self.name,
                self.log_tail()
            ),
            Err(e) => panic!("could not poll {}: {e}", self.name),
        }
    }

    /// True when the process has exited because its port was taken: between `free_port`
    /// and its own bind, another process (often an outgoing connection of a test running
    /// in parallel) was given the same port.
    fn exited_for_a_taken_port(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
            && self.log_tail().contains("Address already in use")
    }

    /// Polls `GET path` on `port` until it answers 200, the process dies, or `timeout` passes.
    async fn wait_http_ok(&mut self, port: u16, path: &str, timeout: Duration) {
        let started = Instant::now();
        loop {
            self.assert_running();
            let last = match http_get(port, path, Duration::from_secs(2)) {
                Ok((200, _)) => return,
                Ok((status, body)) => format!(
                    "HTTP {status}: {}",
                    body.chars().take(300).collect::<String>()
                ),
                Err(e) => e.to_string(),
            };
            if started.elapsed() > timeout {
                panic!(
                    "{} did not answer 200 on http://127.0.0.1:{port}{path} within {timeout:?} \
                     (last: {last}); its output:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- output of {} ({}) ----\n{}",
                self.name,
                self.log.display(),
                self.log_tail()
            );
        }
    }
}

/// The real `tsunagu` binary serving a fresh SQLite database on a free loopback port.
pub struct App {
    base: String,
    port: u16,
    process: ChildGuard,
    _dir: TempDir,
}

impl App {
    /// Starts `tsunagu serve` without waiting for it; see [`App::wait_ready`].
    pub fn spawn() -> App {
        let dir = tempfile::Builder::new()
            .prefix("tsunagu-e2e-app-")
            .tempdir()
            .expect("create temp dir for the app");
        let port = free_port();
        let database_url = format!("sqlite://{}", dir.path().join("e2e.db").display());
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tsunagu"));
        cmd.args([
            "serve",
            "--database-url",
            &database_url,
            "--listen",
            &listen,
        ])
        .current_dir(dir.path());
        let process = ChildGuard::spawn("tsunagu serve", cmd, dir.path().join("server.log"));
        App {
            base: format!("http://127.0.0.1:{port}"),
            port,
            process,
            _dir: dir,
        }
    }

    /// Starts `tsunagu demo` in a fresh folder: demo accounts (with their TOTP secrets) are
    /// written to `data/demo-accounts.json` there, see [`App::demo_accounts`].
    pub fn spawn_demo() -> App {
        let dir = tempfile::Builder::new()
            .prefix("tsunagu-e2e-demo-")
            .tempdir()
            .expect("create temp dir for the demo");
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tsunagu"));
        cmd.args(["demo", "--listen", &listen])
            .current_dir(dir.path());
        let process = ChildGuard::spawn("tsunagu demo", cmd, dir.path().join("server.log"));
        App {
            base: format!("http://127.0.0.1:{port}"),
            port,
            process,
            _dir: dir,
        }
    }

    /// The demo accounts the running demo printed, as objects with login, password,
    /// totp_secret, role, organisation, municipality_code.
    pub fn demo_accounts(&self) -> Vec<Value> {
        let path = self._dir.path().join("data/demo-accounts.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_json::from_str(&text).expect("demo-accounts.json is a JSON list")
    }

    /// Waits until `GET /healthz` answers 200.
    pub async fn wait_ready(&mut self) {
        self.process
            .wait_http_ok(self.port, "/healthz", SERVER_START_TIMEOUT)
            .await;
    }

    /// Absolute URL of `path` (which starts with `/`) on this app.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's output so far, for failure messages.
    pub fn log_tail(&self) -> String {
        self.process.log_tail()
    }
}

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// Kills (SIGKILL, via `kill(1)`) every process whose command line mentions `marker`: the
/// Chromium processes of one test's private profile dir, should any outlive chromedriver.
fn kill_processes_mentioning(marker: &str) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let me = std::process::id().to_string();
    for entry in entries.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if pid == me || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(marker) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// chromedriver + headless Chromium with a fresh profile, and a WebDriver session on it.
///
/// Dropping it (also while a failed assertion unwinds) ends the session synchronously, so
/// chromedriver shuts Chromium down, then kills chromedriver and any Chromium process left
/// on the profile dir. (Killing chromedriver alone leaves Chromium running.)
pub struct Browser {
    pub client: Client,
    driver_port: u16,
    session_id: Option<String>,
    closed: bool,
    // Field order matters: the session ends before chromedriver is killed, and chromedriver
    // is killed before its profile dir is deleted.
    _driver: ChildGuard,
    profile: TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        let chromedriver = env_path("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = env_path("CHROMIUM", "/usr/bin/chromium");
        for (what, path, package) in [
            ("CHROMEDRIVER", &chromedriver, "chromium-driver"),
            ("CHROMIUM", &chromium, "chromium"),
        ] {
            assert!(
                path.exists(),
                "{what} = {} does not exist: install the Debian package `{package}` \
                 (scripts/test does) or point {what} at the binary",
                path.display()
            );
        }
        let profile = tempfile::Builder::new()
            .prefix("tsunagu-e2e-chromium-")
            .tempdir()
            .expect("create temp dir for the Chromium profile");
        // A port found free can be taken before chromedriver binds it: try another.
        let mut attempts = 0;
        let (port, mut driver) = loop {
            attempts += 1;
            let port = free_port();
            let mut cmd = Command::new(&chromedriver);
            cmd.arg(format!("--port={port}"));
            let mut driver =
                ChildGuard::spawn("chromedriver", cmd, profile.path().join("driver.log"));
            tokio::time::sleep(Duration::from_millis(200)).await;
            if attempts < 3 && driver.exited_for_a_taken_port() {
                continue;
            }
            break (port, driver);
        };
        driver
            .wait_http_ok(port, "/status", DRIVER_START_TIMEOUT)
            .await;

        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--lang=ja-JP",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--user-data-dir={}", profile.path().join("profile").display()),
                    "--window-size=1280,900",
                ],
                // Japanese first in Accept-Language as well as in navigator.languages.
                "prefs": { "intl.accept_languages": "ja-JP,ja" },
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "could not open a WebDriver session (Chromium {}): {e}\nchromedriver output:\n{}",
                    chromium.display(),
                    driver.log_tail()
                )
            });
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(30)),
                Some(Duration::from_secs(30)),
                Some(Duration::ZERO),
            ))
            .await
            .expect("set WebDriver timeouts");
        let session_id = client.session_id().await.ok().flatten();
        Browser {
            client,
            driver_port: port,
            session_id,
            closed: false,
            _driver: driver,
            profile,
        }
    }

    /// Ends the WebDriver session (closing Chromium); the rest happens in `Drop`.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.closed = true;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed
            && let Some(id) = &self.session_id
        {
            let _ = http_request(
                self.driver_port,
                "DELETE",
                &format!("/session/{id}"),
                Duration::from_secs(10),
            );
        }
        kill_processes_mentioning(&format!(
            "--user-data-dir={}",
            self.profile.path().join("profile").display()
        ));
    }
}

/// One app and one browser, started in parallel.
pub struct Env {
    pub app: App,
    pub browser: Browser,
}

impl Env {
    pub async fn start() -> Env {
        let mut app = App::spawn();
        let browser = Browser::start().await;
        app.wait_ready().await;
        Env { app, browser }
    }

    /// The demo (with its accounts and children) and a browser.
    pub async fn start_demo() -> Env {
        let mut app = App::spawn_demo();
        let browser = Browser::start().await;
        app.wait_ready().await;
        Env { app, browser }
    }

    pub fn client(&self) -> &Client {
        &self.browser.client
    }

    /// Navigates to `path` on the app.
    pub async fn goto(&self, path: &str) {
        let url = self.app.url(path);
        self.client().goto(&url).await.unwrap_or_else(|e| {
            panic!(
                "navigate to {url}: {e}\nserver output:\n{}",
                self.app.log_tail()
            )
        });
    }

    pub async fn close(self) {
        self.browser.close().await;
    }
}

/// Runs `script` (a function body; use `return`) and returns its result.
pub async fn js(client: &Client, script: &str) -> Value {
    client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("execute script failed: {e}\nscript: {script}"))
}

pub async fn js_bool(client: &Client, script: &str) -> bool {
    match js(client, script).await {
        Value::Bool(b) => b,
        other => panic!("script should return a boolean, got {other}\nscript: {script}"),
    }
}

pub async fn js_u64(client: &Client, script: &str) -> u64 {
    let value = js(client, script).await;
    value
        .as_f64()
        .filter(|n| *n >= 0.0)
        .map(|n| n.ceil() as u64)
        .unwrap_or_else(|| panic!("script should return a number, got {value}\nscript: {script}"))
}

pub async fn js_string(client: &Client, script: &str) -> String {
    match js(client, script).await {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => panic!("script should return a string, got {other}\nscript: {script}"),
    }
}

/// The page's viewport size, `innerWidth` × `innerHeight` in CSS pixels.
async fn inner_size(client: &Client) -> (i64, i64) {
    let value = js(client, "return [window.innerWidth, window.innerHeight];").await;
    let dim = |i: usize| {
        value
            .get(i)
            .and_then(Value::as_f64)
            .map(|n| n.round() as i64)
            .unwrap_or_else(|| panic!("viewport size should be two numbers, got {value}"))
    };
    (dim(0), dim(1))
}

/// Waits for the renderer to take up a window resize: WebDriver "set window rect" returns
/// before the page sees the new size (notably under load), so poll until the viewport is the
/// wanted size, or has not changed for a second, or 5 s have passed.
async fn settled_inner_size(client: &Client, want: (i64, i64)) -> (i64, i64) {
    let started = Instant::now();
    let mut last = inner_size(client).await;
    let mut unchanged_since = Instant::now();
    while last != want
        && unchanged_since.elapsed() < Duration::from_secs(1)
        && started.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let now = inner_size(client).await;
        if now != last {
            last = now;
            unchanged_since = Instant::now();
        }
    }
    last
}

/// Sizes the window so that the page's viewport (`innerWidth` × `innerHeight`) is exactly
/// `width` × `height` CSS pixels, correcting for any browser frame.
pub async fn set_viewport(client: &Client, width: u32, height: u32) {
    let want = (i64::from(width), i64::from(height));
    let (mut win_w, mut win_h) = (width, height);
    let mut inner = (0, 0);
    for _ in 0..3 {
        client
            .set_window_size(win_w, win_h)
            .await
            .unwrap_or_else(|e| panic!("set window size {win_w}x{win_h}: {e}"));
        inner = settled_inner_size(client, want).await;
        if inner == want {
            return;
        }
        win_w = u32::try_from((i64::from(win_w) + want.0 - inner.0).max(1)).unwrap_or(width);
        win_h = u32::try_from((i64::from(win_h) + want.1 - inner.1).max(1)).unwrap_or(height);
    }
    panic!(
        "could not size the viewport to {width}x{height}: it is {}x{}",
        inner.0, inner.1
    );
}

/// Workspace `target/e2e`, where screenshots go (created if missing).
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("target")
        .join("e2e");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("create screenshot dir {}: {e}", dir.display()));
    dir.canonicalize().unwrap_or(dir)
}

/// Full-page screenshot at the given viewport width, saved as `target/e2e/<name>-<width>.png`.
/// The window is made as tall as the document so the whole page is captured, then put back
/// to 900 px. Returns the file's path; fails when the PNG is suspiciously small (a blank page
/// or missing fonts compress to almost nothing).
pub async fn screenshot(client: &Client, name: &str, width: u32) -> PathBuf {
    set_viewport(client, width, 900).await;
    let height = js_u64(
        client,
        "return Math.max(document.documentElement.scrollHeight, \
         document.body ? document.body.scrollHeight : 0)",
    )
    .await
    .clamp(200, 10_000) as u32;
    set_viewport(client, width, height).await;
    let png = client
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("take screenshot {name}-{width}: {e}"));
    set_viewport(client, width, 900).await;
    let path = screenshot_dir().join(format!("{name}-{width}.png"));
    std::fs::write(&path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "screenshot {} is not a PNG",
        path.display()
    );
    assert!(
        png.len() > 10_000,
        "screenshot {} is only {} bytes: the page looks blank (or its text did not render)",
        path.display(),
        png.len()
    );
    path
}

/// Asserts that at the current viewport width nothing makes the document scroll sideways;
/// on failure, names the elements that stick out on the right.
pub async fn assert_no_horizontal_scroll(client: &Client, page: &str) {
    let width = js_u64(client, "return window.innerWidth").await;
    let scroll_width = js_u64(client, "return document.documentElement.scrollWidth").await;
    if scroll_width <= width + 1 {
        return;
    }
    let culprits = js(
        client,
        r#"
        const limit = window.innerWidth + 1;
        const out = [];
        for (const el of document.body.querySelectorAll('*')) {
            const r = el.getBoundingClientRect();
            if (r.right > limit && r.width > 0) {
                let sel = el.tagName.toLowerCase();
                if (el.id) sel += '#' + el.id;
                if (el.classList.length) sel += '.' + Array.from(el.classList).join('.');
                out.push(sel + ' (right edge ' + Math.round(r.right) + 'px, width ' + Math.round(r.width) + 'px)');
                if (out.length >= 15) break;
            }
        }
        return out;
        "#,
    )
    .await;
    let list = culprits
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| format!("  - {s}"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    panic!(
        "{page}: at {width} px the document scrolls horizontally \
         (documentElement.scrollWidth = {scroll_width}); elements past the right edge:\n{list}"
    );
}

/// Polls `check` every 100 ms until it returns `Some`, or panics with `what` after `timeout`.
pub async fn poll<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if started.elapsed() > timeout => {
                panic!("timed out after {timeout:?} waiting for {what}; last state: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Asserts that the Japanese characters in the elements matching `selector` render as real
/// glyphs in those elements' own font (family, weight, style): each character is drawn on a
/// canvas and compared with the drawing of an unassigned code point (the "tofu" box) and of a
/// space. Fails if no element matches or they contain no Japanese text.
pub async fn assert_japanese_glyphs(client: &Client, page: &str, selector: &str) {
    const SCRIPT: &str = r#"
        const selector = arguments[0];
        const elements = Array.from(document.querySelectorAll(selector)).slice(0, 12);
        const canvas = document.createElement('canvas');
        canvas.width = 64;
        canvas.height = 64;
        const g = canvas.getContext('2d');
        function draw(font, ch) {
            g.fillStyle = '#fff';
            g.fillRect(0, 0, 64, 64);
            g.fillStyle = '#000';
            g.font = font;
            g.textBaseline = 'top';
            g.fillText(ch, 4, 4);
            return canvas.toDataURL();
        }
        const japanese = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]/;
        return elements.map(function (el) {
            const cs = getComputedStyle(el);
            const font = cs.fontStyle + ' ' + cs.fontWeight + ' 48px ' + cs.fontFamily;
            const chars = Array.from(new Set(Array.from(el.textContent)))
                .filter(function (ch) { return japanese.test(ch); })
                .slice(0, 24);
            const tofu = draw(font, '\u0378');
            const blank = draw(font, ' ');
            const bad = chars.filter(function (ch) {
                const d = draw(font, ch);
                return d === tofu || d === blank;
            });
            let name = el.tagName.toLowerCase();
            if (el.id) name += '#' + el.id;
            return { element: name, font: cs.fontFamily, chars: chars.join(''), bad: bad.join('') };
        });
    "#;
    let result = client
        .execute(SCRIPT, vec![Value::String(selector.to_owned())])
        .await
        .unwrap_or_else(|e| panic!("{page}: glyph check script failed: {e}"));
    let rows = result
        .as_array()
        .unwrap_or_else(|| panic!("{page}: glyph check returned {result}"));
    assert!(
        !rows.is_empty(),
        "{page}: no element matches `{selector}` for the glyph check"
    );
    let field = |row: &Value, key: &str| {
        row.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let checked: usize = rows.iter().map(|r| field(r, "chars").chars().count()).sum();
    assert!(
        checked > 0,
        "{page}: the elements matching `{selector}` contain no Japanese text: {result}"
    );
    let failures: Vec<String> = rows
        .iter()
        .filter(|r| !field(r, "bad").is_empty())
        .map(|r| {
            format!(
                "  - <{}> font-family {}: no glyph for 「{}」",
                field(r, "element"),
                field(r, "font"),
                field(r, "bad")
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{page}: Japanese text renders as empty boxes (tofu); is fonts-noto-cjk installed?\n{}",
        failures.join("\n")
    );
}

/// Whether Chromium can use the installed font family `family` (compares text widths drawn in
/// `family` with fallbacks against the fallbacks alone).
pub async fn font_available(client: &Client, family: &str) -> bool {
    const SCRIPT: &str = r#"
        const family = arguments[0];
        const g = document.createElement('canvas').getContext('2d');
        const text = 'mmmmmmmmmmlli1234WwQq';
        function width(font) { g.font = '72px ' + font; return g.measureText(text).width; }
        return ['monospace', 'serif', 'sans-serif'].some(function (base) {
            return width('"' + family + '", ' + base) !== width(base);
        });
    "#;
    match client
        .execute(SCRIPT, vec![Value::String(family.to_owned())])
        .await
    {
        Ok(Value::Bool(b)) => b,
        other => panic!("font check for {family} returned {other:?}"),
    }
}
