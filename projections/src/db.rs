//! The database behind the projections: MySQL/MariaDB in production, SQLite
//! for the embedded default. Both are reached through sqlx's `Any` driver so
//! every projection is written once; the few places where the two dialects
//! differ (upserts, row locks) go through [`Dialect`].

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Row};

use crate::Error;

/// The lock a MySQL/MariaDB database's migrations are applied under (one
/// per database; 1 when taken, 0 after 300 s).
const MIGRATIONS_LOCK: &str =
    "SELECT CAST(GET_LOCK(CONCAT('skyline_migrations.', DATABASE()), 300) AS SIGNED)";
const MIGRATIONS_UNLOCK: &str = "DO RELEASE_LOCK(CONCAT('skyline_migrations.', DATABASE()))";

static MYSQL_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/mysql");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Which SQL the database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// MySQL or MariaDB.
    MySql,
    /// SQLite (the embedded default).
    Sqlite,
}

/// A connection pool to the projections' database, migrated.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    dialect: Dialect,
    url: String,
}

impl Database {
    /// Connects to `url` (`mysql://…` or `sqlite://FILE`; a SQLite file is
    /// created if missing) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        sqlx::any::install_default_drivers();
        let (dialect, url) = if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            (Dialect::MySql, url.replacen("mariadb:", "mysql:", 1))
        } else if url.starts_with("sqlite:") {
            let mut url = url.to_owned();
            if !url.contains('?') && !url.contains(":memory:") {
                url.push_str("?mode=rwc");
            }
            (Dialect::Sqlite, url)
        } else {
            return Err(Error::Url(url.to_owned()));
        };
        let options = AnyConnectOptions::from_str(&url).map_err(Error::Sql)?;
        let pool = match dialect {
            // One writer: SQLite serialises writes anyway, and a single
            // connection spares the projections "database is locked" errors.
            Dialect::Sqlite => AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 30000")
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    })
                }),
            Dialect::MySql => AnyPoolOptions::new()
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // Stored strings and doubles exactly as given.
                        sqlx::query(
                            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
                        )
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    })
                }),
        }
        .acquire_timeout(Duration::from_secs(match dialect {
            Dialect::Sqlite => 120,
            Dialect::MySql => 5,
        }))
        .connect_with(options)
        .await
        .map_err(Error::Sql)?;
        let db = Database {
            pool,
            dialect,
            url: redact(&url),
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Opens `url` as [`Database::connect`] does, first making the
    /// directory of a `sqlite://FILE` URL's file if it is missing.
    pub async fn open(url: &str) -> Result<Self, Error> {
        if let Some(file) = url.strip_prefix("sqlite://") {
            let path = Path::new(file.split('?').next().unwrap_or(file));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::Io(dir.display().to_string(), e))?;
            }
        }
        Self::connect(url).await
    }

    /// A SQLite database in `path` (created if missing, with its
    /// directory).
    pub async fn sqlite(path: &Path) -> Result<Self, Error> {
        Self::open(&format!("sqlite://{}", path.display())).await
    }

    async fn migrate(&self) -> Result<(), Error> {
        match self.dialect {
            Dialect::Sqlite => {
                // sqlx takes no lock on SQLite: a project and a console
                // opening a new file at once would both apply migration 1
                // and the second fail ("table already exists"). A lock file
                // beside the database serialises them; the second then
                // finds every migration applied.
                let _held = match sqlite_file(&self.url) {
                    Some(path) => Some(lock_migrations(path).await?),
                    None => None,
                };
                SQLITE_MIGRATIONS.run(&self.pool).await?;
            }
            Dialect::MySql => {
                // Several processes (project, console, a healthcheck) may
                // open a new database at once. sqlx serialises its
                // migrations with `GET_LOCK(name, -1)`, which MariaDB
                // answers at once with NULL (a negative timeout is MySQL's
                // "forever" only), so there the second process finds the
                // first's migration half-applied and refuses. A lock per
                // database with a finite timeout, held on the connection
                // that migrates, works on both.
                let mut conn = self.acquire().await?;
                let locked: Option<i64> = sqlx::query_scalar(MIGRATIONS_LOCK)
                    .fetch_one(&mut *conn)
                    .await?;
                if locked != Some(1) {
                    return Err(Error::MigrationLocked(300));
                }
                // `run_direct` on the locked connection itself (`run` takes
                // an `Acquire`, whose lifetime makes this future not `Send`).
                let migrated = MYSQL_MIGRATIONS.run_direct(&mut *conn).await;
                let _ = sqlx::query(MIGRATIONS_UNLOCK).execute(&mut *conn).await;
                migrated?;
            }
        }
        Ok(())
    }

    /// Which SQL the database speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The underlying sqlx pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The URL without its password, for logs.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub(crate) async fn acquire(&self) -> Result<PoolConnection<Any>, Error> {
        Ok(self.pool.acquire().await?)
    }

    /// The offsets `projection` has applied, `(topic, partition) -> next
    /// offset`.
    pub async fn applied_offsets(
        &self,
        projection: &str,
    ) -> Result<BTreeMap<(String, i32), i64>, Error> {
        let mut conn = self.acquire().await?;
        read_offsets(&mut conn, self.dialect, projection, false).await
    }

    /// Every row of `table`, ordered by its key, each value rendered as text
    /// (`NULL` for null, floats in Rust's shortest round-trip form), so two
    /// databases can be compared exactly.
    pub async fn dump(&self, table: &crate::Table) -> Result<Vec<Vec<String>>, Error> {
        let columns: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            columns.join(", "),
            table.name,
            table.key.join(", ")
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| render(row, i, *kind))
                    .collect()
            })
            .collect()
    }

    /// Whether the database answers `SELECT 1` within `timeout`: the
    /// reason when not, for `/health`.
    pub async fn ping(&self, timeout: std::time::Duration) -> Result<(), String> {
        let answered = tokio::time::timeout(timeout, sqlx::query("SELECT 1").fetch_one(&self.pool))
            .await
            .map_err(|_| format!("database {} did not answer within {timeout:?}", self.url))?;
        answered
            .map(drop)
            .map_err(|e| format!("database {} unreachable: {e}", self.url))
    }

    /// How many rows `table` has.
    pub async fn count(&self, table: &str) -> Result<i64, Error> {
        let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn render(row: &AnyRow, i: usize, kind: Kind) -> Result<String, Error> {
    Ok(match kind {
        Kind::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or_else(|| "NULL".to_owned(), |v| v.to_string()),
        Kind::Real => row
            .try_get::<Option<f64>, _>(i)?
            .map_or_else(|| "NULL".to_owned(), |v| format!("{v:?}")),
        Kind::Text => text(row, i)?.unwrap_or_else(|| "NULL".to_owned()),
    })
}

/// A text column. MySQL reports `TEXT` columns as `BLOB` to the `Any`
/// driver, so those are read as bytes (stored as UTF-8).
pub(crate) fn text(row: &AnyRow, i: usize) -> Result<Option<String>, Error> {
    match row.try_get::<Option<String>, _>(i) {
        Ok(v) => Ok(v),
        Err(_) => Ok(row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())),
    }
}

/// The file of a SQLite URL (`sqlite://FILE[?options]`), none for an
/// in-memory database.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then(|| std::path::PathBuf::from(path))
}

/// An exclusive lock on `<database>.migrations.lock`, held until dropped
/// (the OS releases it if the process dies).
async fn lock_migrations(database: std::path::PathBuf) -> Result<std::fs::File, Error> {
    let mut name = database.into_os_string();
    name.push(".migrations.lock");
    let path = std::path::PathBuf::from(name);
    let what = format!("locking {} for the migrations", path.display());
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(|e| Error::Io(what.clone(), std::io::Error::other(e)))?
    .map_err(|e| Error::Io(what, e))
}

/// `url` without its password (`mysql://user:***@host/db`), for logs and
/// errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The type of a column, as the dump renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer (also booleans and timestamps).
    Int,
    /// A floating-point number.
    Real,
    /// Text (also UUIDs and JSON).
    Text,
}

/// A value bound into a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer or boolean; `None` is NULL.
    Int(Option<i64>),
    /// A floating-point number; `None` is NULL.
    Real(Option<f64>),
    /// Text (also a UUID); `None` is NULL.
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(Some(i64::from(v)))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(Some(v))
    }
}
impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        Value::Real(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_owned()))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<uuid::Uuid> for Value {
    fn from(v: uuid::Uuid) -> Self {
        Value::Text(Some(v.to_string()))
    }
}
impl From<Option<uuid::Uuid>> for Value {
    fn from(v: Option<uuid::Uuid>) -> Self {
        Value::Text(v.map(|u| u.to_string()))
    }
}

/// What an insert does with a row whose key exists.
#[derive(Debug, Clone, Copy)]
pub enum OnConflict<'a> {
    /// Keep the existing row (the event was folded before).
    Keep,
    /// `SET` clauses per dialect, e.g. MySQL `c = VALUES(c)` and SQLite
    /// `c = excluded.c`.
    Update {
        /// The MySQL clauses (`c = VALUES(c)`).
        mysql: &'a str,
        /// The SQLite clauses (`c = excluded.c`).
        sqlite: &'a str,
    },
}

/// Rows per statement: well under both drivers' bind-parameter limits.
const MAX_BINDS: usize = 30_000;

/// Bytes of bound values per statement, roughly: a statement is one packet
/// to MySQL, which refuses packets over `max_allowed_packet` (16 MiB by
/// default), and a check's series is tens of kilobytes of text, so a
/// thousand checks in one statement would not fit.
const MAX_STATEMENT_BYTES: usize = 4 << 20;

impl Value {
    /// About how many bytes the value takes on the wire.
    fn wire_size(&self) -> usize {
        match self {
            Value::Text(Some(s)) => s.len() + 4,
            _ => 9,
        }
    }
}

/// Splits `rows` into statements of at most `per_statement` rows and about
/// [`MAX_STATEMENT_BYTES`] (a single larger row still gets a statement).
fn statements(rows: &[Vec<Value>], per_statement: usize) -> Vec<&[Vec<Value>]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, row) in rows.iter().enumerate() {
        let size: usize = row.iter().map(Value::wire_size).sum();
        if i > start && (i - start >= per_statement || bytes + size > MAX_STATEMENT_BYTES) {
            out.push(&rows[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// Inserts `rows` into `table` (`columns` in order, `key` its primary key)
/// with multi-row statements. Returns the rows written.
pub async fn insert_rows(
    conn: &mut AnyConnection,
    dialect: Dialect,
    table: &str,
    columns: &[&str],
    key: &[&str],
    on_conflict: OnConflict<'_>,
    rows: &[Vec<Value>],
) -> Result<u64, Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let per_statement = (MAX_BINDS / columns.len().max(1)).clamp(1, 1000);
    let placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
    let conflict = match (dialect, on_conflict) {
        // `k = k` rather than INSERT IGNORE, which would also hide errors
        // other than the duplicate key.
        (Dialect::MySql, OnConflict::Keep) => {
            format!(" ON DUPLICATE KEY UPDATE {0} = {0}", key[0])
        }
        (Dialect::MySql, OnConflict::Update { mysql, .. }) => {
            format!(" ON DUPLICATE KEY UPDATE {mysql}")
        }
        (Dialect::Sqlite, OnConflict::Keep) => {
            format!(" ON CONFLICT ({}) DO NOTHING", key.join(", "))
        }
        (Dialect::Sqlite, OnConflict::Update { sqlite, .. }) => {
            format!(" ON CONFLICT ({}) DO UPDATE SET {sqlite}", key.join(", "))
        }
    };
    let mut written = 0;
    for chunk in statements(rows, per_statement) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}{conflict}",
            columns.join(", "),
            vec![placeholders.as_str(); chunk.len()].join(", ")
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            for value in row {
                query = match value {
                    Value::Int(v) => query.bind(*v),
                    Value::Real(v) => query.bind(*v),
                    Value::Text(v) => query.bind(v.clone()),
                };
            }
        }
        query.execute(&mut *conn).await?;
        written += chunk.len() as u64;
    }
    Ok(written)
}

/// The offsets `projection` has applied, optionally locking them for the
/// rest of the transaction (MySQL; SQLite's single writer needs no lock).
pub(crate) async fn read_offsets(
    conn: &mut AnyConnection,
    dialect: Dialect,
    projection: &str,
    lock: bool,
) -> Result<BTreeMap<(String, i32), i64>, Error> {
    let lock = if lock && dialect == Dialect::MySql {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT topic, kafka_partition, next_offset FROM projection_offsets WHERE projection = ?{lock}"
    );
    let rows = sqlx::query(&sql)
        .bind(projection.to_owned())
        .fetch_all(&mut *conn)
        .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let topic: String = row.try_get(0)?;
        let partition: i64 = row.try_get(1)?;
        let next: i64 = row.try_get(2)?;
        out.insert((topic, i32::try_from(partition).unwrap_or(i32::MAX)), next);
    }
    Ok(out)
}

/// Records `next` offsets for `projection` (inside the fold's transaction).
pub(crate) async fn write_offsets(
    conn: &mut AnyConnection,
    dialect: Dialect,
    projection: &str,
    next: &BTreeMap<(String, i32), i64>,
) -> Result<(), Error> {
    let rows: Vec<Vec<Value>> = next
        .iter()
        .map(|((topic, partition), offset)| {
            vec![
                projection.into(),
                topic.as_str().into(),
                i64::from(*partition).into(),
                (*offset).into(),
            ]
        })
        .collect();
    insert_rows(
        conn,
        dialect,
        "projection_offsets",
        &["projection", "topic", "kafka_partition", "next_offset"],
        &["projection", "topic", "kafka_partition"],
        OnConflict::Update {
            mysql: "next_offset = GREATEST(next_offset, VALUES(next_offset))",
            sqlite: "next_offset = MAX(next_offset, excluded.next_offset)",
        },
        &rows,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{redact, statements, Value, MAX_STATEMENT_BYTES};

    #[test]
    fn statements_stay_under_the_packet_limit() {
        let big = "x".repeat(MAX_STATEMENT_BYTES / 3);
        let rows: Vec<Vec<Value>> = (0..10).map(|_| vec![big.as_str().into()]).collect();
        let chunks = statements(&rows, 1000);
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 10);
        assert!(chunks.iter().all(|c| c.len() <= 2), "{}", chunks.len());
        let small: Vec<Vec<Value>> = (0..2500).map(|i| vec![Value::from(i as i64)]).collect();
        let sizes: Vec<usize> = statements(&small, 1000).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        assert!(statements(&[], 10).is_empty());
        let huge = vec![vec![Value::from("y".repeat(MAX_STATEMENT_BYTES * 2))]];
        assert_eq!(statements(&huge, 10).len(), 1);
    }

    #[test]
    fn passwords_are_not_logged() {
        assert_eq!(
            redact("mysql://u:secret@h:3306/db"),
            "mysql://u:***@h:3306/db"
        );
        assert_eq!(redact("mysql://root@h/db"), "mysql://root@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
