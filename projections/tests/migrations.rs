//! Several processes opening one new MySQL/MariaDB database, or one new
//! SQLite file, at once (in docker-compose.yml and `scripts/stack`,
//! `project`, `console` and their healthchecks start together) all find it
//! migrated: none refuses it as half-migrated.

mod common;

use projections::Database;
use sqlx::Connection;

async fn admin(server: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("{server}/mysql"))
        .await
        .expect("connecting to MariaDB");
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn openers_of_a_new_database_at_once_all_find_it_migrated() {
    let server = common::mysql_server();
    for round in 0..3 {
        let name = format!("skyline_migrate_{}", uuid::Uuid::now_v7().simple());
        admin(&server, &format!("CREATE DATABASE {name}")).await;
        let url = format!("{server}/{name}");
        let mut opens = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let url = url.clone();
            opens.spawn(async move { Database::open(&url).await.map(|db| db.dialect()) });
        }
        let mut failures = Vec::new();
        while let Some(opened) = opens.join_next().await {
            if let Err(e) = opened.unwrap() {
                failures.push(e.to_string());
            }
        }
        admin(&server, &format!("DROP DATABASE {name}")).await;
        assert!(failures.is_empty(), "round {round}: {failures:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn openers_of_a_new_sqlite_file_at_once_all_find_it_migrated() {
    let dir =
        std::env::temp_dir().join(format!("skyline-migrate-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for round in 0..5 {
        let url = format!("sqlite://{}", dir.join(format!("{round}.sqlite")).display());
        let mut opens = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let url = url.clone();
            opens.spawn(async move { Database::open(&url).await.map(|db| db.dialect()) });
        }
        let mut failures = Vec::new();
        while let Some(opened) = opens.join_next().await {
            if let Err(e) = opened.unwrap() {
                failures.push(e.to_string());
            }
        }
        assert!(failures.is_empty(), "round {round}: {failures:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
