//! Versioned, forward-only migrations. The pending ones run in one transaction together
//! with the rows that record them, so an upgrade is applied whole or not at all; several
//! servers starting at once on one PostgreSQL serialise on an advisory lock.

use crate::{Backend, Db, StoreError};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: Sql,
}

/// Most migrations are one portable text; a few (search indexes) need each database's
/// own feature.
pub enum Sql {
    Both(&'static str),
    Each { sqlite: &'static str, postgres: &'static str },
}

impl Sql {
    fn for_backend(&self, backend: Backend) -> &'static str {
        match (self, backend) {
            (Sql::Both(s), _) => s,
            (Sql::Each { sqlite, .. }, Backend::Sqlite) => sqlite,
            (Sql::Each { postgres, .. }, Backend::Postgres) => postgres,
        }
    }
}

pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "foundation", sql: Sql::Both(include_str!("../migrations/0001_foundation.sql")) },
    Migration {
        version: 2,
        name: "search_index",
        sql: Sql::Each {
            sqlite: include_str!("../migrations/0002_search_index.sqlite.sql"),
            postgres: include_str!("../migrations/0002_search_index.postgres.sql"),
        },
    },
    Migration {
        version: 3,
        name: "company_logo",
        sql: Sql::Each {
            sqlite: include_str!("../migrations/0003_company_logo.sqlite.sql"),
            postgres: include_str!("../migrations/0003_company_logo.postgres.sql"),
        },
    },
    Migration { version: 4, name: "sales", sql: Sql::Both(include_str!("../migrations/0004_sales.sql")) },
    Migration { version: 5, name: "crm", sql: Sql::Both(include_str!("../migrations/0005_crm.sql")) },
    Migration { version: 6, name: "pipeline", sql: Sql::Both(include_str!("../migrations/0006_pipeline.sql")) },
    Migration { version: 7, name: "agenda", sql: Sql::Both(include_str!("../migrations/0007_agenda.sql")) },
    Migration {
        version: 8,
        name: "purchasing_stock_production",
        sql: Sql::Both(include_str!("../migrations/0008_purchasing_stock_production.sql")),
    },
    Migration {
        version: 9,
        name: "bulk_search_index",
        sql: Sql::Each {
            sqlite: include_str!("../migrations/0009_bulk_search_index.sqlite.sql"),
            postgres: include_str!("../migrations/0009_bulk_search_index.postgres.sql"),
        },
    },
    Migration { version: 10, name: "analytics", sql: Sql::Both(include_str!("../migrations/0010_analytics.sql")) },
];

/// Applies what is missing; returns the versions applied now.
pub async fn migrate(db: &Db) -> Result<Vec<i64>, StoreError> {
    let mut tx = db.begin().await?;
    if db.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7243837)").execute(&mut *tx).await?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations").fetch_one(&mut *tx).await?;
    let current = current.unwrap_or(0);
    if let Some(newest) = MIGRATIONS.last() {
        if current > newest.version {
            return Err(StoreError::Other(format!(
                "the database is at schema version {current}, newer than this program ({}); upgrade Tendero",
                newest.version
            )));
        }
    }
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tracing::info!(version = m.version, name = m.name, "applying migration");
        sqlx::raw_sql(m.sql.for_backend(db.backend)).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, CAST(CURRENT_TIMESTAMP AS TEXT))")
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await?;
        applied.push(m.version);
    }
    tx.commit().await?;
    Ok(applied)
}
