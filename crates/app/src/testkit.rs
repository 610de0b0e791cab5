//! Test support: the same scenario runs on SQLite and on PostgreSQL.
//!
//! `databases()` gives a fresh SQLite file and, when PostgreSQL answers at
//! `TENDERO_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`), a
//! fresh PostgreSQL database made for this test alone. Without PostgreSQL the test says
//! plainly that it skipped it, except under `CI=true`, where that is a failure.

use crate::App;
use sqlx::Connection;

pub struct TestDb {
    pub label: &'static str,
    pub url: String,
    pub app: App,
    admin_url: Option<(String, String)>,
    _dir: Option<TempDir>,
}

/// A temporary directory removed on drop (std has none).
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("{prefix}-{}", crate::new_id()));
        let _ = std::fs::create_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("TENDERO_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// A new, empty SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = TempDir::new("tendero-test");
    let url = format!("sqlite://{}", dir.0.join("tendero.db").display());
    let app = App::open(&url).await.expect("open sqlite");
    TestDb { label: "sqlite", url, app, admin_url: None, _dir: Some(dir) }
}

/// A new, empty PostgreSQL database, or `None` (with a message) when there is no server.
pub async fn postgres() -> Option<TestDb> {
    let admin = postgres_admin_url();
    sqlx::any::install_default_drivers();
    let mut conn = match sqlx::AnyConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => {
            assert!(!in_ci(), "PostgreSQL is required under CI=true but {admin} is unreachable: {e}");
            eprintln!("SKIPPED on PostgreSQL: {admin} is unreachable ({e}); set TENDERO_TEST_POSTGRES");
            return None;
        }
    };
    let name = format!("tendero_t_{}", crate::new_id().replace('-', ""));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    let _ = conn.close().await;
    let (base, _) = admin.rsplit_once('/').unwrap_or((&admin, ""));
    let url = format!("{base}/{name}");
    let app = App::open(&url).await.expect("open postgres");
    Some(TestDb { label: "postgres", url, app, admin_url: Some((admin, name)), _dir: None })
}

/// Every database a scenario must pass on.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

impl TestDb {
    /// Closes the pools and drops the PostgreSQL database.
    pub async fn cleanup(self) {
        self.app.db.close().await;
        if let Some((admin, name)) = &self.admin_url {
            if let Ok(mut conn) = sqlx::AnyConnection::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            }
        }
    }
}
