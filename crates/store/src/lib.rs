//! Tendero's storage: one SQL code path for SQLite and PostgreSQL (through sqlx's `Any`
//! driver, `$1` placeholders and portable SQL), versioned migrations, and the rows that
//! the use cases read and write.

pub mod agenda;
pub mod analytics;
pub mod audit;
pub mod crm;
pub mod files;
pub mod manufacturing;
pub mod master;
pub mod migrate;
pub mod people;
pub mod pipeline;
pub mod purchasing;
pub mod sales;
pub mod stats;
pub mod stock;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor};
use std::time::Duration;

pub use sqlx::{AnyConnection as Conn, Row};

/// A write transaction. Dropping it without `commit` rolls it back.
pub type Tx = sqlx::Transaction<'static, Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL (use sqlite://FILE or postgres://…)")]
    BadUrl,
    /// A unique constraint refused the row; `field` is the column that repeats.
    #[error("duplicate value for {field}")]
    Unique { field: String },
    /// Someone else changed the record since it was read.
    #[error("the record was changed by someone else")]
    Conflict,
    #[error("not found")]
    NotFound,
    #[error("the database is busy, try again")]
    Busy,
    #[error("database error: {0}")]
    Sql(sqlx::Error),
    #[error("{0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.kind() == sqlx::error::ErrorKind::UniqueViolation {
                return StoreError::Unique { field: unique_field(db.constraint(), db.message()) };
            }
            let msg = db.message();
            // 40001: serialization failure; 40P01: deadlock detected (PostgreSQL rolled the
            // transaction back; trying again is safe).
            if msg.contains("database is locked")
                || msg.contains("could not serialize")
                || matches!(db.code().as_deref(), Some("40001" | "40P01"))
            {
                return StoreError::Busy;
            }
        }
        if matches!(e, sqlx::Error::RowNotFound) {
            return StoreError::NotFound;
        }
        StoreError::Sql(e)
    }
}

/// The column behind a unique violation. PostgreSQL names the constraint
/// (`parties_tax_id_key`); SQLite names the column (`UNIQUE constraint failed: parties.tax_id`).
fn unique_field(constraint: Option<&str>, message: &str) -> String {
    if let Some(c) = constraint {
        let c = c.strip_suffix("_key").unwrap_or(c);
        return c.split_once('_').map(|(_, rest)| rest.to_string()).unwrap_or_else(|| c.to_string());
    }
    message
        .rsplit(": ")
        .next()
        .and_then(|cols| cols.split(',').next())
        .and_then(|col| col.trim().split('.').nth(1))
        .unwrap_or("value")
        .to_string()
}

/// The database: a pool for reading and one for writing. On SQLite the writer pool has a
/// single connection, so writers queue in the process instead of failing with "database is
/// locked"; every write transaction starts with `BEGIN IMMEDIATE`, so a writer in another
/// process waits (`busy_timeout`) instead of failing half-way.
#[derive(Clone, Debug)]
pub struct Db {
    pub backend: Backend,
    read: AnyPool,
    write: AnyPool,
}

impl Db {
    /// Opens `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl);
        };
        match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
                // synchronous=FULL: a commit that returned is on disk, even in WAL.
                const PRAGMAS: &str =
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;";
                // No liveness check when a connection is taken from the pool: a connection
                // to a local file does not go stale, and the check (a ping through the
                // connection's worker thread) cost about 0.45 ms per transaction or read
                // here, several times the statement's own work.
                let opts = |extra: &'static str| {
                    AnyPoolOptions::new().test_before_acquire(false).after_connect(move |conn, _| {
                        Box::pin(async move {
                            conn.execute(PRAGMAS).await?;
                            if !extra.is_empty() {
                                conn.execute(extra).await?;
                            }
                            Ok(())
                        })
                    })
                };
                // The one writer gets a larger page cache (32 MiB): bulk imports touch many
                // index pages; readers keep SQLite's 2 MiB default so memory stays small.
                let write =
                    opts("PRAGMA cache_size=-32768;").max_connections(1).acquire_timeout(Duration::from_secs(30)).connect(&url).await?;
                let read = opts("").max_connections(8).connect(&url).await?;
                Ok(Db { backend, read, write })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
                Ok(Db { backend, read: pool.clone(), write: pool })
            }
        }
    }

    /// Begins the one transaction of a business operation.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    /// A connection for reading (outside any transaction).
    pub async fn reader(&self) -> Result<sqlx::pool::PoolConnection<Any>, StoreError> {
        Ok(self.read.acquire().await?)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// A consistent copy of a SQLite database while it is in use (`VACUUM INTO`).
    pub async fn backup_sqlite(&self, target: &str) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Other("backup to a file is only available for SQLite; use pg_dump for PostgreSQL".into()));
        }
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.read).await?;
        Ok(())
    }

    /// Whether a file is a Tendero SQLite database, read without changing it; returns its
    /// schema version.
    pub async fn inspect_sqlite_file(path: &str) -> Result<i64, StoreError> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&format!("sqlite://{path}?mode=ro")).await?;
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations").fetch_one(&mut conn).await?;
        let _ = conn.close().await;
        version.ok_or_else(|| StoreError::Other("no schema version".into()))
    }

    /// Creates an empty PostgreSQL database through a connection to `admin_url`.
    pub async fn create_postgres_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
        use sqlx::Connection;
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Other(format!("invalid database name {name}")));
        }
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
        let _ = conn.close().await;
        Ok(())
    }

    pub async fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
        use sqlx::Connection;
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Other(format!("invalid database name {name}")));
        }
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(admin_url).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await?;
        let _ = conn.close().await;
        Ok(())
    }

    /// Brings the query planner's statistics up to date for `table` (a fixed name, never
    /// user text) after many rows changed: `ANALYZE` on PostgreSQL, `PRAGMA optimize` on
    /// SQLite.
    pub async fn refresh_statistics(&self, table: &'static str) -> Result<(), StoreError> {
        let sql = match self.backend {
            Backend::Postgres => format!("ANALYZE {table}"),
            Backend::Sqlite => "PRAGMA optimize".to_string(),
        };
        sqlx::query(&sql).execute(&self.write).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// A flag stored as 0/1 (SQLite has no boolean type and the `Any` driver cannot decode one).
pub fn flag(row: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

#[cfg(test)]
mod tests {
    use super::unique_field;

    #[test]
    fn unique_fields_from_both_databases() {
        assert_eq!(unique_field(Some("parties_tax_id_key"), ""), "tax_id");
        assert_eq!(unique_field(None, "UNIQUE constraint failed: parties.tax_id"), "tax_id");
        assert_eq!(unique_field(None, "UNIQUE constraint failed: products.code"), "code");
    }
}
