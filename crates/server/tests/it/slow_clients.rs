//! Slow and stuck clients cannot hold the server: sockets that never finish their request
//! head are closed, a body that stops coming is answered, open connections are capped, and
//! `/healthz` answers quickly throughout. The limits are shortened here (the defaults are
//! 10 s for a head or an idle connection, 20 s without progress on a body, 1,024
//! connections) so the test runs in seconds.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tsunagu::ServeLimits;

const HEADER_READ: Duration = Duration::from_secs(1);
const BODY_IDLE: Duration = Duration::from_secs(2);

async fn server(
    max_connections: usize,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    crate::support::TestApp,
) {
    let app = crate::support::app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = ServeLimits {
        header_read: HEADER_READ,
        body_idle: BODY_IDLE,
        max_connections,
    };
    let router = app.router.clone();
    tokio::spawn(async move {
        tsunagu::serve_with(listener, router, limits, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (addr, stop, app)
}

/// `/healthz` on a fresh connection: the status line and how long it took.
async fn healthz(addr: std::net::SocketAddr) -> (String, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    (
        answer.lines().next().unwrap_or_default().to_string(),
        started.elapsed(),
    )
}

/// Whether the server closed the socket within `within` (end of stream or a reset).
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // an answer (408 or the like) before the close
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_sockets_are_cut_off_and_the_server_keeps_answering() {
    let defaults = ServeLimits::default();
    assert_eq!(defaults.header_read, Duration::from_secs(10));
    assert_eq!(defaults.body_idle, Duration::from_secs(20));
    assert_eq!(defaults.max_connections, 1024);

    let (addr, stop, _app) = server(1024).await;
    // 300 slowloris sockets: half a header line each, then nothing.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: loc")
            .await
            .unwrap();
        slow.push(s);
    }
    // Everyone else is still served at once.
    let mut times = Vec::new();
    for _ in 0..5 {
        let (status, took) = healthz(addr).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        times.push(took);
    }
    times.sort();
    assert!(
        times[2] < Duration::from_millis(100),
        "healthz median {:?}",
        times[2]
    );
    // Each slow socket is closed by the server soon after the header time.
    let mut still_open = 0;
    for s in &mut slow {
        if !closed_within(s, HEADER_READ + Duration::from_secs(3)).await {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "slow sockets left open");

    // A body shorter than it declared: answered once it stops coming, not held.
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"login\"",
    )
    .await
    .unwrap();
    let mut answer = vec![0u8; 256];
    let n = tokio::time::timeout(BODY_IDLE + Duration::from_secs(5), s.read(&mut answer))
        .await
        .expect("answered within the body time")
        .unwrap();
    let head = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 4"), "{head}");
    assert!(started.elapsed() < BODY_IDLE + Duration::from_secs(5));
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_closed_at_once() {
    let (addr, stop, _app) = server(5).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: loc")
            .await
            .unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_millis(500)).await,
        "the sixth connection is closed at once"
    );
    // Once the slow ones are cut off, the server takes connections again.
    tokio::time::sleep(HEADER_READ + Duration::from_millis(500)).await;
    let (status, _) = healthz(addr).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let _ = stop.send(());
}
