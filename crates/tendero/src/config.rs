//! Settings, layered: defaults → `tendero.toml` (in the data directory, or `--config`) →
//! `TENDERO_*` environment variables → command-line flags.

use anyhow::{bail, Context, Result};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Default, Serialize)]
pub struct Flags {
    /// HOST:PORT to listen on [default: 127.0.0.1:8080; env TENDERO_ADDR]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// Directory of the SQLite database and the lock file [default: ./tendero-data; env TENDERO_DATA_DIR]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// postgres://USER@HOST:PORT/DB to use PostgreSQL instead of SQLite [env TENDERO_DATABASE_URL]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// A TOML file with these same settings [default: DATA_DIR/tendero.toml if present]
    #[arg(long, global = true)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

#[derive(Deserialize, Serialize, Clone)]
pub struct Settings {
    pub addr: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// Mark cookies Secure (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Log filter (RUST_LOG syntax).
    pub log: String,
    /// Outgoing mail: `smtp://HOST:PORT`, `smtp://USER:PASS@HOST:587?tls=starttls` or
    /// `smtps://USER:PASS@HOST:465`. No mail is sent without it.
    pub smtp_url: Option<String>,
    /// The sender of outgoing mail, e.g. `Ventas <ventas@example.com>`.
    pub mail_from: Option<String>,
    /// The service desk's mailbox: `imap://USER:PASS@HOST:143/INBOX` or
    /// `imaps://USER:PASS@HOST:993/INBOX`. Unread mail becomes tickets.
    pub imap_url: Option<String>,
    /// How often the server reads that mailbox, in seconds.
    pub imap_poll_seconds: u64,
}

impl std::fmt::Debug for Settings {
    // The database URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "<redacted>"))
            .field("secure_cookies", &self.secure_cookies)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .field("mail_from", &self.mail_from)
            .field("imap_url", &self.imap_url.as_ref().map(|_| "<redacted>"))
            .field("imap_poll_seconds", &self.imap_poll_seconds)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("tendero-data"),
            database_url: None,
            secure_cookies: false,
            log: "info".into(),
            smtp_url: None,
            mail_from: None,
            imap_url: None,
            imap_poll_seconds: 60,
        }
    }
}

impl Settings {
    pub fn load(flags: &Flags) -> Result<Settings> {
        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| std::env::var_os("TENDERO_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| Settings::default().data_dir);
        let file = flags.config.clone().unwrap_or_else(|| data_dir.join("tendero.toml"));
        if flags.config.is_some() && !file.is_file() {
            bail!("config file {} not found", file.display());
        }
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("TENDERO_").ignore(&["test_postgres"]))
            .merge(Serialized::defaults(flags))
            .extract()
            .context("reading the settings")?;
        Ok(settings)
    }

    /// The database to open: PostgreSQL when a URL is given, else SQLite in the data dir.
    pub fn database_url(&self) -> Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir).with_context(|| format!("creating {}", self.data_dir.display()))?;
        Ok(format!("sqlite://{}", self.data_dir.join("tendero.db").display()))
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.database_url.is_none().then(|| self.data_dir.join("tendero.db"))
    }

    /// Holds `DATA_DIR/tendero.lock` while serving or restoring, so that a restore cannot
    /// replace the database under a running server (only for SQLite).
    pub fn lock_data_dir(&self) -> Result<Option<DataDirLock>> {
        if self.database_url.is_some() {
            return Ok(None);
        }
        std::fs::create_dir_all(&self.data_dir)?;
        let path = self.data_dir.join("tendero.lock");
        if let Ok(pid) = std::fs::read_to_string(&path) {
            let pid = pid.trim();
            if !pid.is_empty() && std::path::Path::new(&format!("/proc/{pid}")).exists() && pid != std::process::id().to_string() {
                bail!("another Tendero (process {pid}) is using {}", self.data_dir.display());
            }
        }
        std::fs::write(&path, std::process::id().to_string())?;
        Ok(Some(DataDirLock(path)))
    }
}

pub struct DataDirLock(PathBuf);

impl Drop for DataDirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
