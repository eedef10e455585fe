//! A real SMTP server for tests: aiosmtpd from the reference venv
//! (`pyref/smtp_sink.py`), on a free local port, writing each message it
//! accepts to a directory. Shared by the alert crate's tests and the
//! binary's end-to-end tests (`#[path]`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use uuid::Uuid;

/// The SMTP server, stopped when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("skyline-smtp-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(numeric::reference::reference_python())
            .arg(numeric::reference::repo_root().join("pyref/smtp_sink.py"))
            .arg(port.to_string())
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        SmtpSink { child, port, dir }
    }

    /// The messages received so far, in order: (envelope, raw message).
    pub fn mails(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        (1..)
            .map(|n| self.dir.join(format!("{n}.eml")))
            .take_while(|p| p.exists())
            .map(|p| {
                let envelope = std::fs::read(p.with_extension("json")).unwrap();
                (
                    serde_json::from_slice(&envelope).unwrap(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing its stdin stops it; kill in case it does not.
        drop(self.child.stdin.take().map(|mut i| i.flush()));
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
