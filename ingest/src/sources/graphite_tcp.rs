//! A Graphite plaintext listener (`name value timestamp\n` over TCP, the
//! carbon port 2003 protocol).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::{DatapointSink, Refusal, SourceStats};
use crate::connections::{Connection, ConnectionPool, TcpLimits};
use crate::line::{parse_graphite, LineError};
use topics::kafka::RefusalReason;

/// Lines longer than this are refused (and the rest of the line skipped).
pub const MAX_LINE_LEN: usize = 4096;
/// Datapoints (or refused lines) handed to the sink at once, at most.
const MAX_BATCH: usize = 5000;

/// Accepts connections on `listener` until the task is dropped, at most
/// `limits.max` at once (see [`crate::connections`]); each connection is
/// read line by line, in batches flushed whenever the socket has nothing
/// more buffered, and closed after `limits.idle_timeout_secs` of silence.
pub async fn serve<S: DatapointSink>(
    listener: TcpListener,
    sink: Arc<S>,
    stats: Arc<SourceStats>,
    limits: TcpLimits,
) {
    let pool = ConnectionPool::new("graphite", limits.max);
    let idle = Duration::from_secs(limits.idle_timeout_secs.max(1));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let connection = pool.admit().await;
                let (sink, stats) = (sink.clone(), stats.clone());
                tokio::spawn(async move {
                    let source = format!("graphite-tcp:{peer}");
                    let read = read_connection(stream, &source, &connection, idle, &*sink, &stats);
                    if let Err(e) = read.await {
                        tracing::warn!(%peer, error = %e, "graphite connection ended with an error");
                    }
                });
            }
            Err(e) => {
                // Out of files, most likely: wait for connections to end.
                tracing::warn!(error = %e, "graphite listener: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// What one connection has read and not yet handed to the sink.
struct Pending<'s, S> {
    sink: &'s S,
    stats: &'s SourceStats,
    source: &'s str,
    points: Vec<topics::Datapoint>,
    refused: Vec<Refusal>,
}

impl<S: DatapointSink> Pending<'_, S> {
    fn len(&self) -> usize {
        self.points.len() + self.refused.len()
    }

    /// Hands everything read so far to the sink, the refused lines as one
    /// batch of dead letters.
    async fn flush(&mut self, connection: &Connection) -> Result<(), super::SinkError> {
        let _busy = connection.busy();
        if !self.refused.is_empty() {
            let refused = std::mem::take(&mut self.refused);
            let n = refused.len();
            self.sink.refuse(self.source, refused).await?;
            self.stats.add(0, n);
        }
        if !self.points.is_empty() {
            let n = self.points.len();
            self.sink.accept(std::mem::take(&mut self.points)).await?;
            self.stats.add(n, 0);
        }
        Ok(())
    }
}

async fn read_connection<S: DatapointSink>(
    stream: TcpStream,
    source: &str,
    connection: &Connection,
    idle: Duration,
    sink: &S,
    stats: &SourceStats,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = Vec::with_capacity(256);
    let mut pending = Pending {
        sink,
        stats,
        source,
        points: Vec::new(),
        refused: Vec::new(),
    };
    loop {
        line.clear();
        let read = tokio::select! {
            read = tokio::time::timeout(idle, read_line_limited(&mut reader, &mut line)) => read,
            () = connection.evicted() => {
                tracing::debug!(source, "closing an idle connection to make room");
                break;
            }
        };
        let Ok(n) = read else {
            tracing::debug!(source, ?idle, "closing a silent connection");
            break;
        };
        if n? == 0 {
            break;
        }
        connection.touch();
        if line.len() > MAX_LINE_LEN {
            let mut head = line[..MAX_LINE_LEN.min(line.len())].to_vec();
            head.extend_from_slice(b"...");
            pending.refused.push((
                head,
                RefusalReason::Unparsable,
                format!("line longer than {MAX_LINE_LEN} bytes"),
            ));
        } else if !line.iter().all(u8::is_ascii_whitespace) {
            let parsed = std::str::from_utf8(&line)
                .map_err(|_| LineError::NotUtf8)
                .and_then(|text| parse_graphite(text.trim()));
            match parsed {
                Ok(d) => pending.points.push(d),
                Err(e) => pending
                    .refused
                    .push((line.clone(), e.reason(), e.to_string())),
            }
        }
        if pending.len() > 0 && (pending.len() >= MAX_BATCH || reader.buffer().is_empty()) {
            pending.flush(connection).await?;
        }
    }
    pending.flush(connection).await?;
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
