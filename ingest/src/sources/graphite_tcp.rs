//! A Graphite plaintext listener (`name value timestamp\n` over TCP, the
//! carbon port 2003 protocol).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::{DatapointSink, SourceStats};
use crate::line::{parse_graphite, LineError};

/// Lines longer than this are refused (and the rest of the line skipped).
pub const MAX_LINE_LEN: usize = 4096;
/// Datapoints handed to the sink at once, at most.
const MAX_BATCH: usize = 5000;

/// Accepts connections on `listener` until the task is dropped; each
/// connection is read line by line, in batches flushed whenever the socket
/// has nothing more buffered.
pub async fn serve<S: DatapointSink>(listener: TcpListener, sink: Arc<S>, stats: Arc<SourceStats>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let (sink, stats) = (sink.clone(), stats.clone());
                tokio::spawn(async move {
                    if let Err(e) = read_connection(stream, peer, &*sink, &stats).await {
                        tracing::warn!(%peer, error = %e, "graphite connection ended with an error");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "graphite listener: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn read_connection<S: DatapointSink>(
    stream: TcpStream,
    peer: SocketAddr,
    sink: &S,
    stats: &SourceStats,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let source = format!("graphite-tcp:{peer}");
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = Vec::with_capacity(256);
    let mut batch = Vec::new();
    loop {
        line.clear();
        let n = read_line_limited(&mut reader, &mut line).await?;
        if n == 0 {
            break;
        }
        if line.len() > MAX_LINE_LEN {
            let mut head = line[..MAX_LINE_LEN.min(line.len())].to_vec();
            head.extend_from_slice(b"...");
            sink.refuse(
                &source,
                head,
                format!("line longer than {MAX_LINE_LEN} bytes"),
            )
            .await?;
            stats.add(0, 1);
        } else if !line.iter().all(u8::is_ascii_whitespace) {
            let parsed = std::str::from_utf8(&line)
                .map_err(|_| LineError::NotUtf8)
                .and_then(|text| parse_graphite(text.trim()));
            match parsed {
                Ok(d) => batch.push(d),
                Err(reason) => {
                    sink.refuse(&source, line.clone(), reason.to_string())
                        .await?;
                    stats.add(0, 1);
                }
            }
        }
        if !batch.is_empty() && (batch.len() >= MAX_BATCH || reader.buffer().is_empty()) {
            let n = batch.len();
            sink.accept(std::mem::take(&mut batch)).await?;
            stats.add(n, 0);
        }
    }
    if !batch.is_empty() {
        let n = batch.len();
        sink.accept(batch).await?;
        stats.add(n, 0);
    }
    Ok(())
}

/// Reads up to and including `\n`, keeping at most `MAX_LINE_LEN + 1` bytes
/// of it (enough to know it was too long) and discarding the rest.
async fn read_line_limited<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(total);
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let room = (MAX_LINE_LEN + 1).saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len();
        total += used;
        reader.consume(used);
        if done {
            return Ok(total);
        }
    }
}
