//! The listeners' bounds over real sockets (issue 14, defect 4): idle and
//! slow clients are closed after their timeouts, and a full listener makes
//! room for a new client by closing its idlest connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ingest::connections::{HttpLimits, TcpLimits};
use ingest::sources::{graphite_tcp, http, DatapointSink, Refusal, SinkError, SourceStats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use topics::Datapoint;

struct Discard;

impl DatapointSink for Discard {
    async fn accept(&self, _: Vec<Datapoint>) -> Result<(), SinkError> {
        Ok(())
    }
    async fn refuse(&self, _: &str, _: Vec<Refusal>) -> Result<(), SinkError> {
        Ok(())
    }
}

async fn http_server(limits: HttpLimits) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = http::router(Arc::new(Discard), Arc::new(SourceStats::default()));
    tokio::spawn(async move {
        ingest::http_server::serve(listener, app, "http", &limits, std::future::pending()).await
    });
    addr
}

/// Reads until the server closes the connection; returns what it sent and
/// how long that took.
async fn until_closed(conn: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "still open after 10 s");
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

const VALID: &str = r#"[{"metric":"m","timestamp":1700000000,"value":1}]"#;

fn request(body: &str) -> String {
    format!(
        "POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn a_client_slow_to_send_its_headers_is_closed() {
    let addr = http_server(HttpLimits {
        header_timeout_secs: 1,
        ..HttpLimits::default()
    })
    .await;
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // One header byte every 200 ms: never a complete head.
    let trickle = tokio::spawn({
        let (_, mut write) = conn.into_split();
        async move {
            for _ in 0..50 {
                if write.write_all(b"X").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    // The server closing shows as the writer failing.
    let started = Instant::now();
    let _ = tokio::time::timeout(Duration::from_secs(10), trickle).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "open for {took:?}");

    // An idle keep-alive connection ends after the same timeout.
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(request(VALID).as_bytes()).await.unwrap();
    let (response, took) = until_closed(&mut conn).await;
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn a_request_whose_body_never_ends_gets_408() {
    let addr = http_server(HttpLimits {
        request_timeout_secs: 1,
        ..HttpLimits::default()
    })
    .await;
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        b"POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[{\"met",
    )
    .await
    .unwrap();
    let (response, took) = until_closed(&mut conn).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn a_full_http_listener_closes_its_idlest_connection_for_a_new_client() {
    let addr = http_server(HttpLimits {
        max: 3,
        ..HttpLimits::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(addr).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        request(VALID)
            .replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let (response, took) = until_closed(&mut conn).await;
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // The oldest idle connection made room.
    let (_, took) = until_closed(&mut idle[0]).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn graphite_closes_silent_connections_and_makes_room_when_full() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stats = Arc::new(SourceStats::default());
    let limits = TcpLimits {
        max: 2,
        idle_timeout_secs: 1,
    };
    let server = tokio::spawn(graphite_tcp::serve(
        listener,
        Arc::new(Discard),
        stats.clone(),
        limits,
    ));
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let (_, took) = until_closed(&mut silent).await;
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );

    let mut first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(b"m 1 1700000000\n").await.unwrap();
    third.shutdown().await.unwrap();
    let (_, took) = until_closed(&mut first).await;
    assert!(
        took < Duration::from_millis(900),
        "the idlest closed at once: {took:?}"
    );
    for _ in 0..100 {
        if stats.accepted() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stats.accepted(), 1);
    server.abort();
}
