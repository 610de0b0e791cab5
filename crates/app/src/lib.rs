//! Tendero's use cases: one function per business action. Each checks the actor's
//! permission (in `Actor::authorize`, the one place), runs in one database transaction,
//! and records its change in the audit trail inside that same transaction. Web pages, the
//! API, the command line and the tests all call these functions; none of them sees HTTP.

pub mod agenda;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod crm;
pub mod demo;
pub mod desk;
pub mod inbox;
pub mod indicators;
pub mod logo;
pub mod mail;
pub mod manufacturing;
pub mod master;
pub mod pipeline;
pub mod purchasing;
pub mod receivables;
pub mod sales;
pub mod stats;
pub mod stock;
pub mod stock_docs;
pub mod testkit;
pub mod transfer;

use domain::access::{self, Action, Resource, Role};
use domain::validation::FieldErrors;
use store::{Db, StoreError};

pub use store::Backend;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("permission denied")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// Field-by-field problems; values are translation keys.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// A business rule refused the action; the value is a translation key.
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("the record was changed by someone else; reload and try again")]
    Conflict,
    #[error("too many attempts; try again later")]
    Throttled,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unique { field } => AppError::Invalid(FieldErrors::single(&field, "value-duplicate")),
            StoreError::Conflict => AppError::Conflict,
            StoreError::NotFound => AppError::NotFound,
            StoreError::Busy => AppError::Refused("database-busy"),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Who is acting: a logged-in user (page or API token) or the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub locale: String,
}

impl Actor {
    /// The command line acts as an administrator named after the OS user.
    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            username: format!("cli:{name}"),
            display_name: name.to_string(),
            role: Role::Administrator,
            locale: "es".into(),
        }
    }

    /// The one permission check for pages, API and command line.
    pub fn authorize(&self, action: Action, resource: Resource) -> AppResult<()> {
        if access::can(self.role, action, resource) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn can(&self, action: Action, resource: Resource) -> bool {
        access::can(self.role, action, resource)
    }

    /// Segregation of duties on payables: refuses approving the payment of an invoice
    /// this user recorded (`recorded_by`: who created or posted it) while the business
    /// keeps the rule on (`rule_on`).
    pub fn authorize_payment_approval(&self, rule_on: bool, recorded_by: &[&str]) -> AppResult<()> {
        match access::payment_approval_refused(rule_on, &self.username, recorded_by) {
            Some(key) => Err(AppError::Refused(key)),
            None => Ok(()),
        }
    }
}

/// The application: the database and the settings use cases need.
#[derive(Clone, Debug)]
pub struct App {
    pub db: Db,
}

impl App {
    pub async fn open(database_url: &str) -> AppResult<App> {
        let db = Db::connect(database_url).await?;
        store::migrate::migrate(&db).await?;
        Ok(App { db })
    }

    pub fn backend(&self) -> Backend {
        self.db.backend
    }
}

/// Timestamps: UTC, microseconds, a fixed width so that text order is time order.
pub mod clock {
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    pub fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    pub fn text(t: OffsetDateTime) -> String {
        let t = t.to_offset(time::UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }

    pub fn now_text() -> String {
        text(now())
    }

    pub fn parse(s: &str) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(s, &Rfc3339).ok()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn text_round_trips_and_sorts() {
            let a = super::now();
            let t = super::text(a);
            assert_eq!(t.len(), 27);
            assert_eq!(super::parse(&t).map(super::text), Some(t));
        }
    }
}

/// A new id: UUIDv7, time-ordered, safe to create on any server or offline client.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Ids come from URLs and JSON: anything that is not a UUID is simply not found.
pub fn parse_id(s: &str) -> AppResult<String> {
    uuid::Uuid::parse_str(s.trim()).map(|u| u.to_string()).map_err(|_| AppError::NotFound)
}
