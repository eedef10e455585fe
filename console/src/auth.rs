//! Who may see and change what: operators log in with a name and password
//! (Argon2 hashes in the config), get a signed session cookie, and every
//! write carries a CSRF token bound to that session. Scripts use the bearer
//! token instead (`[console] api_token`).
//!
//! Sessions are stateless: the cookie is `payload.signature`, where the
//! payload is `user|expires|nonce` (base64url) and the signature is
//! HMAC-SHA256 over it and the user's password hash, with a key from
//! `session_secret`. Any console process with the same secret accepts it,
//! and nothing has to be stored or replicated. Because the password hash is
//! signed too, changing a user's password in the config ends every session
//! of that user. Logging out revokes the session in the process that served
//! the logout (a list of revoked nonces, kept until they would have expired
//! anyway); other console processes sharing the secret keep accepting a
//! copied cookie until it expires, so keep `session_hours` short when
//! several run. The CSRF token of a session is HMAC(key, "csrf|" + nonce):
//! a page embeds it in its forms (or a script sends it as `X-CSRF-Token`),
//! and a cross-site request cannot know it. The login form is protected the
//! same way by a short-lived pre-session nonce cookie (double submit).

use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "skyline_session";
/// The login form's pre-session nonce cookie.
pub const LOGIN_COOKIE: &str = "skyline_login";
/// The header a script sends a session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An operator who may log in (`[[console.users]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The name the operator logs in with (and labels under).
    pub name: String,
    /// The password's Argon2 hash in PHC form (`$argon2id$v=19$...`), as
    /// `skyline hash-password` prints it.
    pub password_hash: String,
}

/// A logged-in operator, read from a valid session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The operator's name.
    pub user: String,
    /// Unix seconds after which the cookie is refused.
    pub expires: i64,
    nonce: String,
}

/// Why a configured user cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// A user's `password_hash` does not parse.
    #[error("[[console.users]] {user:?}: password_hash is not an Argon2 PHC string: {reason}")]
    Hash {
        /// The user's name.
        user: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A user has an empty name.
    #[error("[[console.users]]: a user needs a name")]
    NoName,
    /// Two users have this name.
    #[error("[[console.users]]: {0:?} is listed twice")]
    Duplicate(String),
    /// The session secret is too short (its length).
    #[error("[console] session_secret must be at least 32 characters (got {0})")]
    ShortSecret(usize),
    /// `client_address_header` is not a header name.
    #[error("[console] client_address_header: {0:?} is not a header name")]
    ClientAddressHeader(String),
}

/// Users, the signing key and the session length.
pub struct Auth {
    users: Vec<User>,
    key: Vec<u8>,
    session_seconds: i64,
    secure_cookies: bool,
    throttle: std::sync::Mutex<LoginThrottle>,
    /// Nonces of sessions logged out before they expired, with their expiry.
    revoked: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

/// Failed logins allowed per client address and name within
/// [`THROTTLE_WINDOW`] seconds; past that, that address is refused (429)
/// for that name until the oldest failure ages out.
pub const MAX_FAILED_LOGINS: usize = 5;
/// The window failed logins are counted over, in seconds.
pub const THROTTLE_WINDOW: i64 = 900;

/// Keys kept before failures that have aged out are forgotten.
const THROTTLE_KEYS: usize = 10_000;

/// Who a failed login is counted against: the client's address (an IPv6
/// address by its /64, which one host usually has whole; `None` when the
/// address is unknown) and the name tried.
pub type ThrottleKey = (Option<IpAddr>, String);

/// Characters of a tried name a throttle key (and a log line) keeps: no
/// operator's name is longer, and a megabyte of name sent with each guess
/// must not be kept per failure.
pub const NAME_KEPT: usize = 128;

/// The first [`NAME_KEPT`] characters of a tried name.
pub fn name_kept(name: &str) -> &str {
    name.char_indices()
        .nth(NAME_KEPT)
        .map_or(name, |(at, _)| &name[..at])
}

/// The [`ThrottleKey`] of a login from `client` for `name`.
pub fn throttle_key(client: Option<IpAddr>, name: &str) -> ThrottleKey {
    let client = client.map(|ip| match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !0u128 << 64)),
        v4 => v4,
    });
    (client, name_kept(name).to_owned())
}

/// Recent failed logins per client address and name. Argon2 makes each
/// guess cost tens of milliseconds; this caps guesses at a handful per
/// address and name per window, so a password cannot be ground through
/// the login form from one address. It is keyed by the address too so that
/// it is no lockout tool: wrong passwords sent from elsewhere do not keep
/// the operator out. Kept in memory per console process (a restart
/// forgets it).
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: std::collections::HashMap<ThrottleKey, Vec<i64>>,
}

impl LoginThrottle {
    /// `Err(seconds)` to wait when `key` has used up its failures.
    pub fn check(&mut self, key: &ThrottleKey, now: i64) -> Result<(), i64> {
        let Some(times) = self.failures.get_mut(key) else {
            return Ok(());
        };
        times.retain(|t| now - t < THROTTLE_WINDOW);
        if times.len() < MAX_FAILED_LOGINS {
            return Ok(());
        }
        let oldest = times.iter().min().copied().unwrap_or(now);
        Err((oldest + THROTTLE_WINDOW - now).max(1))
    }

    /// Counts a failed login of `key` at `now`.
    pub fn failed(&mut self, key: &ThrottleKey, now: i64) {
        // Bound the map: keys nobody retries (typos, scans) must not grow
        // it forever.
        if self.failures.len() > THROTTLE_KEYS {
            self.failures
                .retain(|_, times| times.iter().any(|t| now - t < THROTTLE_WINDOW));
        }
        self.failures.entry(key.clone()).or_default().push(now);
    }

    /// Forgets `key`'s failures: it logged in.
    pub fn succeeded(&mut self, key: &ThrottleKey) {
        self.failures.remove(key);
    }
}

/// How long a login waits for its turn at the password check before it is
/// answered 503 (with `Retry-After`).
pub const PASSWORD_CHECK_WAIT: Duration = Duration::from_secs(30);

/// Argon2's working memory (19 MiB with the default parameters), kept by
/// a checker thread and reused by each of its checks: allocating it afresh
/// per check, as `verify_password` does, left the allocator holding a
/// copy per arena long after the logins (+310 MiB after 100 logins even on
/// two threads).
#[derive(Default)]
pub struct CheckMemory(Vec<argon2::Block>);

impl CheckMemory {
    /// Whether `password` hashes to `hash`: argon2's `verify_password`
    /// (its algorithm, version, parameters, salt and output length from
    /// the PHC string, compared in constant time) in this memory.
    pub fn verify(&mut self, password: &[u8], hash: &PasswordHash<'_>) -> bool {
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(version), Ok(params)) = (
            argon2::Algorithm::try_from(hash.algorithm),
            hash.version
                .map(argon2::Version::try_from)
                .transpose()
                .map(Option::unwrap_or_default),
            argon2::Params::try_from(hash),
        ) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let blocks = params.block_count();
        if self.0.len() < blocks {
            self.0.resize(blocks, argon2::Block::default());
        }
        let mut output = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password, salt, &mut output, &mut self.0[..blocks])
            .is_ok()
            && bool::from(output.as_slice().ct_eq(expected.as_bytes()))
    }
}

/// A password check waiting for a checker thread.
type CheckJob = Box<dyn FnOnce(&mut CheckMemory) + Send>;

/// The threads password checks run on, a fixed few. Each Argon2 check takes
/// 19 MiB and tens of milliseconds of CPU: unbounded, 30 concurrent logins
/// grew the console by 268 MiB, and it stayed, since the allocator keeps
/// freed memory in the arena of the thread that used it. On a fixed few
/// threads, at most that many checks run at once, each thread in its own
/// [`CheckMemory`]. Logins wait their turn (first come, first
/// served) for up to [`PASSWORD_CHECK_WAIT`]; a check whose login gave up
/// waiting is skipped.
pub struct PasswordChecks {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<CheckJob>>,
    peak: Arc<AtomicUsize>,
}

impl PasswordChecks {
    /// `threads` checker threads (at least 1); they end when this is
    /// dropped.
    pub fn new(threads: usize) -> PasswordChecks {
        let (jobs, queue) = std::sync::mpsc::channel::<CheckJob>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            let (running, peak) = (running.clone(), peak.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("password-check-{i}"))
                .spawn(move || {
                    let mut memory = CheckMemory::default();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let now = running.fetch_add(1, Ordering::AcqRel) + 1;
                        peak.fetch_max(now, Ordering::AcqRel);
                        job(&mut memory);
                        running.fetch_sub(1, Ordering::AcqRel);
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "starting a password-check thread");
            }
        }
        PasswordChecks {
            jobs: std::sync::Mutex::new(jobs),
            peak,
        }
    }

    /// Runs `check` on a checker thread, in its memory, when its turn
    /// comes, waiting up to
    /// `wait` for the outcome; `None` when it did not come in time (or no
    /// checker thread runs).
    pub async fn run<T: Send + 'static>(
        &self,
        wait: Duration,
        check: impl FnOnce(&mut CheckMemory) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: CheckJob = Box::new(move |memory| {
            // The login gave up waiting: nobody would read the outcome.
            if !tx.is_closed() {
                let _ = tx.send(check(memory));
            }
        });
        self.jobs.lock().ok()?.send(job).ok()?;
        tokio::time::timeout(wait, rx).await.ok()?.ok()
    }

    /// The most checks that have run at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }
}

type HmacSha256 = Hmac<Sha256>;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random password of 16 hex digits (64 bits), e.g. for a demo login.
pub fn random_password() -> String {
    random_hex(8)
}

/// Hashes `password` with Argon2id (the crate's default parameters: 19 MiB,
/// 2 passes) and a random salt, as a PHC string for `[[console.users]]`.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

impl Auth {
    /// Checks the users' hashes and the secret. With no `secret`, a random
    /// key is made: sessions then end when the process does.
    pub fn new(
        users: Vec<User>,
        secret: Option<&str>,
        session_hours: u32,
        secure_cookies: bool,
    ) -> Result<Auth, AuthConfigError> {
        let mut names = std::collections::BTreeSet::new();
        for u in &users {
            if u.name.trim().is_empty() {
                return Err(AuthConfigError::NoName);
            }
            if !names.insert(u.name.as_str()) {
                return Err(AuthConfigError::Duplicate(u.name.clone()));
            }
            PasswordHash::new(&u.password_hash).map_err(|e| AuthConfigError::Hash {
                user: u.name.clone(),
                reason: e.to_string(),
            })?;
        }
        let key = match secret {
            Some(s) if s.chars().count() < 32 => {
                return Err(AuthConfigError::ShortSecret(s.chars().count()))
            }
            Some(s) => s.as_bytes().to_vec(),
            None => random_hex(32).into_bytes(),
        };
        Ok(Auth {
            users,
            key,
            session_seconds: i64::from(session_hours.max(1)) * 3600,
            secure_cookies,
            throttle: Default::default(),
            revoked: Default::default(),
        })
    }

    /// `Err(seconds)` to wait when the client has used up its failed
    /// logins for `name` (see [`LoginThrottle`]): cheap, to refuse before
    /// queueing for a password check.
    pub fn throttled(&self, client: Option<IpAddr>, name: &str) -> Result<(), i64> {
        match self.throttle.lock() {
            Ok(mut t) => t.check(&throttle_key(client, name), now()),
            Err(_) => Ok(()),
        }
    }

    /// Verifies a login attempt from `client` under the throttle:
    /// `Ok(Some(cookie value, session))` when right, `Ok(None)` when wrong,
    /// `Err(seconds)` refused without checking (too many recent failures
    /// from this client for this name). Slow: call it off the executor,
    /// on a [`PasswordChecks`] thread, with its [`CheckMemory`].
    pub fn attempt_login(
        &self,
        memory: &mut CheckMemory,
        client: Option<IpAddr>,
        name: &str,
        password: &str,
    ) -> Result<Option<(String, Session)>, i64> {
        let now = now();
        let key = throttle_key(client, name);
        if let Ok(mut t) = self.throttle.lock() {
            t.check(&key, now)?;
        }
        let session = if self.verify_password_in(memory, name, password) {
            self.new_session(name)
        } else {
            None
        };
        if let Ok(mut t) = self.throttle.lock() {
            if session.is_some() {
                t.succeeded(&key);
            } else {
                t.failed(&key, now);
            }
        }
        Ok(session)
    }

    /// Whether anyone can log in at all.
    pub fn has_users(&self) -> bool {
        !self.users.is_empty()
    }

    fn sign(&self, data: &str) -> Vec<u8> {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail.
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => return Vec::new(),
        };
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Verifies a name and password. Argon2 is deliberately slow (tens of
    /// milliseconds): call it off the async executor. An unknown user costs
    /// the same as a wrong password, so timing does not tell names apart.
    pub fn verify_password(&self, name: &str, password: &str) -> bool {
        self.verify_password_in(&mut CheckMemory::default(), name, password)
    }

    /// [`Auth::verify_password`] with `memory` as Argon2's working memory.
    pub fn verify_password_in(&self, memory: &mut CheckMemory, name: &str, password: &str) -> bool {
        let user = self.users.iter().find(|u| u.name == name);
        let hash = user.map(|u| u.password_hash.as_str()).unwrap_or(DUMMY_HASH);
        let ok = PasswordHash::new(hash)
            .map(|h| memory.verify(password.as_bytes(), &h))
            .unwrap_or(false);
        ok && user.is_some()
    }

    /// The signature of a session payload: bound to the user's current
    /// password hash, so a new password ends the old sessions.
    fn sign_session(&self, payload: &str, user: &User) -> Vec<u8> {
        self.sign(&format!("session|{payload}|{}", user.password_hash))
    }

    /// A session cookie value for `user`, valid from now on. `None` for a
    /// name that is not configured.
    pub fn new_session(&self, user: &str) -> Option<(String, Session)> {
        let known = self.users.iter().find(|u| u.name == user)?;
        let session = Session {
            user: user.to_owned(),
            expires: now() + self.session_seconds,
            nonce: random_hex(16),
        };
        let payload = B64.encode(format!(
            "{}|{}|{}",
            session.expires, session.nonce, session.user
        ));
        let signature = B64.encode(self.sign_session(&payload, known));
        Some((format!("{payload}.{signature}"), session))
    }

    /// The session a cookie value stands for, if its signature is ours and
    /// it has not expired.
    pub fn session_of(&self, cookie: &str) -> Option<Session> {
        let (payload, signature) = cookie.split_once('.')?;
        let given = B64.decode(signature).ok()?;
        let text = String::from_utf8(B64.decode(payload).ok()?).ok()?;
        let mut parts = text.splitn(3, '|');
        let expires: i64 = parts.next()?.parse().ok()?;
        let nonce = parts.next()?.to_owned();
        let user = parts.next()?.to_owned();
        // The user is read before the signature is checked only to find the
        // password hash it is signed with; nothing is trusted until it is.
        let known = self.users.iter().find(|u| u.name == user)?;
        if !bool::from(given.ct_eq(&self.sign_session(payload, known))) {
            return None;
        }
        if expires < now() || self.is_revoked(&nonce) {
            return None;
        }
        Some(Session {
            user,
            expires,
            nonce,
        })
    }

    /// Ends `session` now in this process: its cookie is refused from here
    /// on even if a copy of it is replayed.
    pub fn revoke(&self, session: &Session) {
        let now = now();
        if let Ok(mut revoked) = self.revoked.lock() {
            // Forget revocations of sessions that have expired anyway, so
            // the list stays as small as the number of live sessions.
            revoked.retain(|_, expires| *expires >= now);
            revoked.insert(session.nonce.clone(), session.expires);
        }
    }

    fn is_revoked(&self, nonce: &str) -> bool {
        // A poisoned lock (a panic elsewhere while holding it) refuses the
        // session: failing closed.
        self.revoked
            .lock()
            .map(|r| r.contains_key(nonce))
            .unwrap_or(true)
    }

    /// The session from a request's cookies.
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        cookie(headers, SESSION_COOKIE).and_then(|c| self.session_of(&c))
    }

    /// The CSRF token of `session`.
    pub fn csrf_token(&self, session: &Session) -> String {
        B64.encode(self.sign(&format!("csrf|{}", session.nonce)))
    }

    /// Whether `token` is `session`'s CSRF token (constant time).
    pub fn csrf_ok(&self, session: &Session, token: &str) -> bool {
        bool::from(
            token
                .trim()
                .as_bytes()
                .ct_eq(self.csrf_token(session).as_bytes()),
        )
    }

    /// A fresh login nonce (its cookie value) and the token the login form
    /// carries for it.
    pub fn login_nonce(&self) -> (String, String) {
        let nonce = random_hex(16);
        let token = B64.encode(self.sign(&format!("login|{nonce}")));
        (nonce, token)
    }

    /// Whether a login form's token belongs to the request's login cookie.
    pub fn login_token_ok(&self, headers: &HeaderMap, token: &str) -> bool {
        let Some(nonce) = cookie(headers, LOGIN_COOKIE) else {
            return false;
        };
        let expected = B64.encode(self.sign(&format!("login|{nonce}")));
        bool::from(token.trim().as_bytes().ct_eq(expected.as_bytes()))
    }

    /// `Set-Cookie` for a session (HttpOnly: scripts in the page cannot read
    /// it; SameSite=Strict: other sites' requests do not carry it).
    pub fn session_cookie(&self, value: &str) -> HeaderValue {
        self.cookie_header(SESSION_COOKIE, value, self.session_seconds)
    }

    /// `Set-Cookie` for the login nonce (10 minutes).
    pub fn login_cookie(&self, nonce: &str) -> HeaderValue {
        self.cookie_header(LOGIN_COOKIE, nonce, 600)
    }

    /// `Set-Cookie` that removes a cookie.
    pub fn expired_cookie(&self, name: &str) -> HeaderValue {
        self.cookie_header(name, "", 0)
    }

    fn cookie_header(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        let text =
            format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
        // Names are ours and values base64url or hex: always a valid header.
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// A valid Argon2id hash of a random password, verified against when the
/// user is unknown so that both cases take the same time.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2t5bGluZWR1bW15c2FsdA$0nWzaaPYjCJfrsSRhyRGEsvDWRaXhG0mZsDmlfRh8Bc";

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    fn auth() -> Auth {
        let hash = hash_password("correct horse").unwrap();
        Auth::new(
            vec![User {
                name: "ops".into(),
                password_hash: hash,
            }],
            Some("0123456789abcdef0123456789abcdef"),
            12,
            false,
        )
        .unwrap()
    }

    fn with_cookie(name: &str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {name}={value}")).unwrap(),
        );
        h
    }

    #[test]
    fn passwords_verify_only_when_right() {
        let a = auth();
        assert!(a.verify_password("ops", "correct horse"));
        assert!(!a.verify_password("ops", "correct horse "));
        assert!(!a.verify_password("nobody", "correct horse"));
    }

    #[test]
    fn the_throttle_refuses_an_address_and_name_after_its_failures_until_they_age_out() {
        let mut t = LoginThrottle::default();
        let here = Some(IpAddr::from([192, 0, 2, 1]));
        let ops = throttle_key(here, "ops");
        for i in 0..MAX_FAILED_LOGINS as i64 {
            assert_eq!(t.check(&ops, 1000 + i), Ok(()));
            t.failed(&ops, 1000 + i);
        }
        assert_eq!(t.check(&ops, 1010), Err(THROTTLE_WINDOW - 10));
        assert_eq!(
            t.check(&throttle_key(here, "other"), 1010),
            Ok(()),
            "per name"
        );
        let elsewhere = throttle_key(Some(IpAddr::from([192, 0, 2, 2])), "ops");
        assert_eq!(t.check(&elsewhere, 1010), Ok(()), "per address");
        assert_eq!(
            t.check(&ops, 1000 + THROTTLE_WINDOW),
            Ok(()),
            "the oldest aged out"
        );
        t.failed(&ops, 1000 + THROTTLE_WINDOW);
        assert!(t.check(&ops, 1000 + THROTTLE_WINDOW).is_err());
        t.succeeded(&ops);
        assert_eq!(t.check(&ops, 1000 + THROTTLE_WINDOW), Ok(()));
    }

    #[test]
    fn a_long_name_is_kept_short() {
        let long = "é".repeat(10_000);
        let (_, kept) = throttle_key(None, &long);
        assert_eq!(kept.chars().count(), NAME_KEPT);
        assert_eq!(name_kept("ops"), "ops");
    }

    #[test]
    fn an_ipv6_client_is_throttled_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(throttle_key(Some(a), "ops"), throttle_key(Some(b), "ops"));
        assert_ne!(
            throttle_key(Some(a), "ops"),
            throttle_key(Some(other), "ops")
        );
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(
            throttle_key(Some(mapped), "ops"),
            throttle_key(Some(IpAddr::from([192, 0, 2, 1])), "ops"),
            "an IPv4-mapped address is its IPv4 address"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn password_checks_run_at_most_their_threads_at_once() {
        let checks = Arc::new(PasswordChecks::new(2));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let checks = checks.clone();
                tokio::spawn(async move {
                    checks
                        .run(Duration::from_secs(10), move |_| {
                            std::thread::sleep(Duration::from_millis(30));
                            i
                        })
                        .await
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), Some(i), "every login gets its turn");
        }
        assert_eq!(checks.peak(), 2);
        // Past its wait a login gets None, and its check is skipped.
        let slow = |_: &mut CheckMemory| std::thread::sleep(Duration::from_millis(200));
        let (a, b) = (
            checks.run(Duration::from_secs(1), slow),
            checks.run(Duration::from_secs(1), slow),
        );
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = ran.clone();
        let late = checks.run(Duration::from_millis(50), move |_| {
            counted.fetch_add(1, Ordering::AcqRel);
        });
        let (a, b, late) = tokio::join!(a, b, late);
        assert_eq!((a, b, late), (Some(()), Some(()), None));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            ran.load(Ordering::Acquire),
            0,
            "the abandoned check was skipped"
        );
    }

    #[test]
    fn checks_in_kept_memory_agree_with_argon2_and_reuse_it() {
        let hash = hash_password("correct horse").unwrap();
        let phc = PasswordHash::new(&hash).unwrap();
        let mut memory = CheckMemory::default();
        for (password, right) in [
            ("correct horse", true),
            ("correct horse ", false),
            ("", false),
        ] {
            let theirs = Argon2::default()
                .verify_password(password.as_bytes(), &phc)
                .is_ok();
            assert_eq!(
                memory.verify(password.as_bytes(), &phc),
                theirs,
                "{password:?}"
            );
            assert_eq!(theirs, right);
        }
        let (len, at) = (memory.0.len(), memory.0.as_ptr());
        assert_eq!(len, 19 * 1024, "19 MiB of 1 KiB blocks");
        memory.verify(b"again", &phc);
        assert_eq!(
            (memory.0.len(), memory.0.as_ptr()),
            (len, at),
            "the same memory"
        );
        // Another algorithm, version or parameters: the same as argon2.
        let other = Argon2::new(
            argon2::Algorithm::Argon2i,
            argon2::Version::V0x10,
            argon2::Params::new(64, 1, 1, Some(16)).unwrap(),
        )
        .hash_password(b"pw", &SaltString::generate(&mut rand::rngs::OsRng))
        .unwrap()
        .to_string();
        let other = PasswordHash::new(&other).unwrap();
        assert!(memory.verify(b"pw", &other));
        assert!(!memory.verify(b"pW", &other));
    }

    #[test]
    fn the_dummy_hash_is_a_valid_phc_string() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn a_session_cookie_round_trips_and_tampering_is_refused() {
        let a = auth();
        let (cookie, session) = a.new_session("ops").unwrap();
        assert_eq!(a.session_of(&cookie), Some(session.clone()));
        assert_eq!(
            a.session(&with_cookie(SESSION_COOKIE, &cookie)),
            Some(session)
        );
        // Another payload with the old signature.
        let (_, sig) = cookie.split_once('.').unwrap();
        let forged = B64.encode(format!("{}|aa|ops", now() + 999_999));
        assert_eq!(a.session_of(&format!("{forged}.{sig}")), None);
        assert_eq!(a.session_of("garbage"), None);
        // A key of another console does not verify.
        let other = Auth::new(a.users.clone(), Some(&"x".repeat(40)), 12, false).unwrap();
        assert_eq!(other.session_of(&cookie), None);
    }

    #[test]
    fn a_removed_user_or_a_new_password_loses_the_session() {
        let a = auth();
        assert!(a.new_session("ghost").is_none());
        let (cookie, _) = a.new_session("ops").unwrap();
        let secret = "0123456789abcdef0123456789abcdef";
        let removed = Auth::new(vec![], Some(secret), 12, false).unwrap();
        assert_eq!(removed.session_of(&cookie), None);
        let same = Auth::new(a.users.clone(), Some(secret), 12, false).unwrap();
        assert!(same.session_of(&cookie).is_some(), "same config, same key");
        let repassworded = Auth::new(
            vec![User {
                name: "ops".into(),
                password_hash: hash_password("battery staple").unwrap(),
            }],
            Some(secret),
            12,
            false,
        )
        .unwrap();
        assert_eq!(repassworded.session_of(&cookie), None);
    }

    #[test]
    fn a_revoked_session_is_refused_and_others_are_not() {
        let a = auth();
        let (c1, s1) = a.new_session("ops").unwrap();
        let (c2, _) = a.new_session("ops").unwrap();
        a.revoke(&s1);
        assert_eq!(a.session_of(&c1), None);
        assert!(a.session_of(&c2).is_some());
    }

    #[test]
    fn csrf_tokens_are_per_session() {
        let a = auth();
        let (_, s1) = a.new_session("ops").unwrap();
        let (_, s2) = a.new_session("ops").unwrap();
        let t1 = a.csrf_token(&s1);
        assert!(a.csrf_ok(&s1, &t1));
        assert!(!a.csrf_ok(&s2, &t1));
        assert!(!a.csrf_ok(&s1, ""));
    }

    #[test]
    fn the_login_token_belongs_to_its_cookie() {
        let a = auth();
        let (nonce, token) = a.login_nonce();
        assert!(a.login_token_ok(&with_cookie(LOGIN_COOKIE, &nonce), &token));
        let (other, _) = a.login_nonce();
        assert!(!a.login_token_ok(&with_cookie(LOGIN_COOKIE, &other), &token));
        assert!(!a.login_token_ok(&HeaderMap::new(), &token));
    }

    #[test]
    fn config_errors_name_the_problem() {
        let bad = Auth::new(
            vec![User {
                name: "ops".into(),
                password_hash: "plain".into(),
            }],
            None,
            12,
            false,
        );
        assert!(matches!(bad, Err(AuthConfigError::Hash { .. })));
        assert!(matches!(
            Auth::new(vec![], Some("short"), 12, false),
            Err(AuthConfigError::ShortSecret(5))
        ));
    }
}
