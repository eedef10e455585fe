//! The Graphite TCP and HTTP sources over real sockets on loopback. The sink
//! here is a collecting one (the test is about the sources; the path into
//! Kafka is tested end to end elsewhere).

use std::sync::{Arc, Mutex};

use ingest::connections::{HttpLimits, TcpLimits};
use ingest::sources::{graphite_tcp, http, DatapointSink, Refusal, SinkError, SourceStats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use topics::kafka::RefusalReason;
use topics::Datapoint;

#[derive(Default)]
struct Collect {
    accepted: Mutex<Vec<Datapoint>>,
    refused: Mutex<Vec<Refused>>,
}

/// A refusal as collected: the source, the raw bytes, the error and the
/// counted reason.
type Refused = (String, Vec<u8>, String, RefusalReason);

impl DatapointSink for Collect {
    async fn accept(&self, batch: Vec<Datapoint>) -> Result<(), SinkError> {
        self.accepted.lock().unwrap().extend(batch);
        Ok(())
    }

    async fn refuse(&self, source: &str, refused: Vec<Refusal>) -> Result<(), SinkError> {
        self.refused.lock().unwrap().extend(
            refused
                .into_iter()
                .map(|(raw, reason, error)| (source.to_owned(), raw, error, reason)),
        );
        Ok(())
    }
}

async fn wait_for(stats: &SourceStats, total: u64) {
    for _ in 0..200 {
        if stats.accepted() + stats.refused() >= total {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!(
        "source handled {} + {} of {total}",
        stats.accepted(),
        stats.refused()
    );
}

#[tokio::test]
async fn graphite_tcp_accepts_good_lines_and_refuses_bad_ones() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sink = Arc::new(Collect::default());
    let stats = Arc::new(SourceStats::default());
    let server = tokio::spawn(graphite_tcp::serve(
        listener,
        sink.clone(),
        stats.clone(),
        TcpLimits::default(),
    ));

    let mut lines = String::new();
    for i in 0..10_000 {
        lines.push_str(&format!(
            "stats.web{}.cpu {}.5 {}\n",
            i % 7,
            i,
            1_700_000_000 + i
        ));
    }
    lines.push_str("bad line\nm nan 1700000000\n\n");
    lines.push_str(&format!("{} 1 1700000000\n", "x".repeat(300)));
    lines.push_str(&format!("m {} 1700000000\n", "9".repeat(5000)));
    lines.push_str("last.line 1 1700000001"); // no trailing newline
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(lines.as_bytes()).await.unwrap();
    conn.shutdown().await.unwrap();
    wait_for(&stats, 10_005).await;
    server.abort();

    let accepted = sink.accepted.lock().unwrap();
    assert_eq!(accepted.len(), 10_001);
    assert_eq!(
        accepted[42],
        Datapoint {
            metric: "stats.web0.cpu".into(),
            timestamp: 1_700_000_042,
            value: 42.5
        }
    );
    assert_eq!(accepted.last().unwrap().metric, "last.line");
    let refused = sink.refused.lock().unwrap();
    let reasons: Vec<&str> = refused.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(refused.len(), 4, "{reasons:?}");
    assert!(reasons[0].contains("got 2 field(s)"));
    assert!(reasons[1].contains("not finite"));
    assert!(reasons[2].contains("300 bytes long"));
    assert!(reasons[3].contains("longer than 4096"));
    // Counted by reason: fields, a value, a name, a length.
    let counted: Vec<RefusalReason> = refused.iter().map(|r| r.3).collect();
    assert_eq!(
        counted,
        [
            RefusalReason::Unparsable,
            RefusalReason::Value,
            RefusalReason::MetricName,
            RefusalReason::Unparsable
        ]
    );
    assert!(refused[0].0.starts_with("graphite-tcp:127.0.0.1:"));
}

async fn post(addr: std::net::SocketAddr, body: &str) -> (u16, String) {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

#[tokio::test]
async fn http_accepts_arrays_and_names_refused_elements() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sink = Arc::new(Collect::default());
    let stats = Arc::new(SourceStats::default());
    let app = http::router(sink.clone(), stats.clone());
    let limits = HttpLimits::default();
    let server = tokio::spawn(async move {
        ingest::http_server::serve(listener, app, "http", &limits, std::future::pending()).await
    });

    let (status, body) = post(addr, r#"[{"metric":"a","timestamp":1700000000,"value":1.5},{"metric":"b","timestamp":1700000060,"value":2}]"#).await;
    assert_eq!(status, 202, "{body}");
    assert!(body.contains(r#""accepted":2"#), "{body}");

    let (status, body) = post(addr, r#"[{"metric":"c","timestamp":1700000000,"value":1},{"metric":"","timestamp":1,"value":1},{"metric":"d"}]"#).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(r#""accepted":1"#)
            && body.contains(r#""index":1"#)
            && body.contains(r#""index":2"#),
        "{body}"
    );
    assert!(body.contains("metric name is empty"), "{body}");

    let (status, body) = post(addr, r#"{"metric":"a"}"#).await;
    assert_eq!(status, 400);
    assert!(body.contains("not a JSON array"), "{body}");
    server.abort();

    let accepted = sink.accepted.lock().unwrap();
    assert_eq!(
        accepted
            .iter()
            .map(|d| d.metric.as_str())
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    // Each refused element is dead-lettered as sent; a body that is not an
    // array, whole.
    let refused = sink.refused.lock().unwrap();
    let raw: Vec<&[u8]> = refused.iter().map(|r| r.1.as_slice()).collect();
    assert_eq!(
        raw,
        [
            &br#"{"metric":"","timestamp":1,"value":1}"#[..],
            br#"{"metric":"d"}"#,
            br#"{"metric":"a"}"#
        ]
    );
    assert!(refused[0].2.contains("element 1 of a POST"), "{refused:?}");
    let counted: Vec<RefusalReason> = refused.iter().map(|r| r.3).collect();
    assert_eq!(
        counted,
        [
            RefusalReason::MetricName,
            RefusalReason::Unparsable,
            RefusalReason::Unparsable
        ]
    );
}
