//! `tendero`: the one binary. Serves the web application and API, migrates, fills the demo
//! company, manages users and tokens, verifies the audit trail, backs up and restores,
//! and runs the analytics commands.

mod analytics_bench;
mod bench;
mod config;
mod crm_bench;
mod mfg_bench;
mod o2c;

use anyhow::{bail, Context, Result};
use app::{auth, Actor, App};
use clap::{Parser, Subcommand};
use config::Settings;
use std::io::Read;
use std::net::SocketAddr;

#[derive(Parser)]
#[command(name = "tendero", version, about = "Tendero: ventas y CRM para pequeñas y medianas empresas")]
struct Cli {
    #[command(flatten)]
    global: config::Flags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web application and the API (creates and migrates the database).
    Serve {
        /// Fill the demo company first when the database has no customers.
        #[arg(long)]
        demo: bool,
    },
    /// Create or upgrade the database schema and exit.
    Migrate,
    /// Fill a demo company (Distribuidora Del Plata) into an empty database.
    Demo,
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a consistent copy of the database to FILE while the server runs (SQLite).
    Backup { file: std::path::PathBuf },
    /// Replace the database with a backup (the server must be stopped; the current
    /// database is kept beside it as `tendero.db.before-restore-…`).
    Restore { file: std::path::PathBuf },
    /// Import customers, suppliers or articles from CSV or XLSX (upsert by tax id or code),
    /// or contacts from vCard; all-or-nothing unless --skip-bad-rows.
    Import {
        /// customers, suppliers, products or contacts
        kind: String,
        file: std::path::PathBuf,
        /// Check everything and report, store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the good rows and report the bad ones.
        #[arg(long)]
        skip_bad_rows: bool,
        /// For contacts: the customer or supplier they work for.
        #[arg(long)]
        party: Option<String>,
    },
    /// Export customers, suppliers or products (CSV or XLSX), or contacts (vCard).
    Export {
        kind: String,
        #[arg(long, default_value = "csv")]
        format: String,
        /// Where to write [default: standard output]
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Benchmarks (see docs/BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Customer analytics.
    Analytics {
        #[command(subcommand)]
        command: AnalyticsCommand,
    },
    /// Read the service desk's mailbox once (TENDERO_IMAP_URL): unread mail becomes
    /// tickets or joins their conversations.
    FetchMail,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// List users.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (shown only this once).
    New {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List tokens (prefixes only).
    List,
    /// Revoke a token by id or prefix.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exits with 1 and names the first tampered entry.
    Verify,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Load customers and articles, then time API searches, the first list page and memory.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        customers: usize,
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        /// API searches of each kind.
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// Rows per import transaction.
        #[arg(long, default_value_t = 50_000)]
        batch: usize,
        /// A PostgreSQL server to run on (a fresh database is made there and dropped after).
        #[arg(long = "on", value_name = "POSTGRES_URL")]
        on: Option<String>,
        /// Print the figures as one JSON object on the last line.
        #[arg(long)]
        json: bool,
    },
    /// Orders through confirm, delivery, posted invoice and receipt (shared/BENCHMARKS.md).
    #[command(name = "order-to-cash")]
    OrderToCash {
        #[arg(long, default_value_t = 200)]
        orders: usize,
        /// A PostgreSQL server to run on (a fresh database is made there and dropped after);
        /// SQLite in a temporary directory when not given.
        #[arg(long, value_name = "POSTGRES_URL")]
        database_url: Option<String>,
        /// Drive a real server process over the HTTP API instead of calling the use cases.
        #[arg(long)]
        http: bool,
        /// Concurrent clients.
        #[arg(long, default_value_t = 1)]
        clients: usize,
        /// The reference orders (default: ../shared/data/bench/order-to-cash-200.json).
        #[arg(long)]
        reference: Option<std::path::PathBuf>,
        /// Print the figures as one JSON object on the last line.
        #[arg(long)]
        json: bool,
    },
    /// A customer's timeline among a million interactions, and the SLA clock of open tickets.
    Crm {
        /// Interactions in the database; a tenth of them are one customer's.
        #[arg(long, default_value_t = 1_000_000)]
        interactions: usize,
        #[arg(long, default_value_t = 100_000)]
        tickets: usize,
        /// Timeline requests.
        #[arg(long, default_value_t = 500)]
        queries: usize,
        /// A PostgreSQL server to run on (a fresh database is made there and dropped after).
        #[arg(long = "on", value_name = "POSTGRES_URL")]
        on: Option<String>,
        /// Print the figures as one JSON object on the last line.
        #[arg(long)]
        json: bool,
    },
    /// Fit BG/NBD and Gamma-Gamma and score every customer of a generated million.
    Analytics {
        /// Customers, buying by a BG/NBD process (about 3.5 purchases each).
        #[arg(long, default_value_t = 1_000_000)]
        customers: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the figures as one JSON object on the last line.
        #[arg(long)]
        json: bool,
    },
    /// Explode and cost a five-level bill of materials; replenishment over many reorder rules.
    Manufacturing {
        /// Articles, each with stock and a reorder rule.
        #[arg(long, default_value_t = 100_000)]
        articles: usize,
        /// Distinct components of the five-level bill.
        #[arg(long, default_value_t = 1_000)]
        components: usize,
        /// Timed explosions.
        #[arg(long, default_value_t = 50)]
        runs: usize,
        /// A PostgreSQL server to run on (a fresh database is made there and dropped after);
        /// SQLite in a temporary directory when not given.
        #[arg(long, value_name = "POSTGRES_URL")]
        database_url: Option<String>,
        /// Print the figures as one JSON object on the last line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AnalyticsCommand {
    /// Fit BG/NBD + Gamma-Gamma on a `customer_id,date,amount` CSV and print CLV per customer.
    Clv {
        #[arg(long)]
        transactions: std::path::PathBuf,
        #[arg(long)]
        calibration_end: String,
        #[arg(long, default_value = "week")]
        time_unit: String,
        #[arg(long, default_value_t = 39.0)]
        horizon: f64,
        #[arg(long, default_value_t = 12)]
        clv_months: u32,
        #[arg(long, default_value_t = 0.01)]
        discount_monthly: f64,
        #[arg(long, default_value = "json")]
        format: String,
    },
    /// RFM scores 1–5 and named segments of a `customer_id,date,amount` CSV, as of a day.
    Rfm {
        #[arg(long)]
        transactions: std::path::PathBuf,
        /// The last day counted (rows after it are ignored); recency is counted to it.
        #[arg(long)]
        as_of: String,
        #[arg(long, default_value = "json")]
        format: String,
    },
}

fn os_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "admin".into())
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli.global) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tendero: {e:#}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log)),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    match run(cli.command, settings).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("tendero: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn open(settings: &Settings) -> Result<App> {
    App::open(&settings.database_url()?).await.map_err(|e| anyhow::anyhow!("{e}")).context("opening the database")
}

async fn run(command: Command, settings: Settings) -> Result<i32> {
    let actor = Actor::system(&os_user());
    match command {
        Command::Serve { demo } => serve(settings, demo).await?,
        Command::Migrate => {
            open(&settings).await?;
            println!("database is up to date");
        }
        Command::Demo => {
            let app = open(&settings).await?;
            if app::demo::fill(&app, &actor).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("demo company filled");
            } else {
                println!("the database already has customers; the demo was not added");
            }
        }
        Command::User { command: UserCommand::Add { name, role, password_stdin, display_name, email } } => {
            if !password_stdin {
                bail!("give the password on standard input with --password-stdin");
            }
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let app = open(&settings).await?;
            let input = auth::UserInput {
                username: Some(name),
                display_name,
                email,
                password: Some(password),
                role: Some(role),
                locale: None,
                active: None,
            };
            match auth::create_user(&app, &actor, &input).await {
                Ok(u) => println!("user {} created ({})", u.username, u.role.code()),
                Err(app::AppError::Invalid(f)) => {
                    for (field, key) in f.0 {
                        eprintln!("{field}: {key}");
                    }
                    return Ok(2);
                }
                Err(e) => bail!("{e}"),
            }
        }
        Command::User { command: UserCommand::List } => {
            let app = open(&settings).await?;
            for u in auth::list_users(&app, &actor).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("{}\t{}\t{}\t{}", u.username, u.role.code(), if u.active { "active" } else { "inactive" }, u.display_name);
            }
        }
        Command::Token { command: TokenCommand::New { user, name } } => {
            let app = open(&settings).await?;
            let (_, secret) = auth::new_token(&app, &actor, &user, &name).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{secret}");
        }
        Command::Token { command: TokenCommand::List } => {
            let app = open(&settings).await?;
            for t in auth::list_tokens(&app, &actor).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.prefix,
                    t.username,
                    t.name,
                    t.revoked_at.map(|r| format!("revoked {r}")).unwrap_or_else(|| "active".into())
                );
            }
        }
        Command::Token { command: TokenCommand::Revoke { id } } => {
            let app = open(&settings).await?;
            auth::revoke_token(&app, &actor, &id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("revoked");
        }
        Command::Audit { command: AuditCommand::Verify } => {
            let app = open(&settings).await?;
            let report = app::audit::verify(&app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            match report.first_bad {
                None => println!("audit trail intact: {} entries, last hash {}", report.entries, report.last_hash),
                Some((seq, why)) => {
                    println!("audit trail TAMPERED at entry {seq}: {why}");
                    return Ok(1);
                }
            }
        }
        Command::FetchMail => {
            let cfg = imap_config(&settings)?.context("no mailbox: set imap_url (TENDERO_IMAP_URL)")?;
            let app = open(&settings).await?;
            let round = app::inbox::fetch(&app, &cfg).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "opened {} ({}), joined {} ({}), read before {}, set aside {}",
                round.opened.len(),
                round.opened.join(", "),
                round.joined.len(),
                round.joined.join(", "),
                round.again,
                round.set_aside
            );
        }
        Command::Backup { file } => {
            let app = open(&settings).await?;
            if file.exists() {
                bail!("{} already exists; choose a new file", file.display());
            }
            let target = file.to_str().context("the backup path is not valid UTF-8")?;
            app.db.backup_sqlite(target).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("backup written to {}", file.display());
        }
        Command::Restore { file } => restore(&settings, &file).await?,
        Command::Analytics { command } => return analytics(command),
        Command::Bench { command: BenchCommand::Search { customers, products, queries, batch, on, json } } => {
            let on = on.or(settings.database_url.clone());
            let figures = bench::search(bench::SearchOpts { customers, products, queries, database_url: on, batch: batch.max(1) }).await?;
            if json {
                println!("{figures}");
            } else {
                println!("{}", serde_json::to_string_pretty(&figures)?);
            }
        }
        Command::Bench { command: BenchCommand::OrderToCash { orders, database_url, http, clients, reference, json } } => {
            let figures = o2c::run(o2c::Opts { orders, database_url, http, clients, reference }).await?;
            if json {
                println!("{figures}");
            } else {
                println!("{}", serde_json::to_string_pretty(&figures)?);
            }
        }
        Command::Bench { command: BenchCommand::Crm { interactions, tickets, queries, on, json } } => {
            let on = on.or(settings.database_url.clone());
            let figures = crm_bench::run(crm_bench::Opts { interactions, tickets, queries, database_url: on }).await?;
            if json {
                println!("{figures}");
            } else {
                println!("{}", serde_json::to_string_pretty(&figures)?);
            }
        }
        Command::Bench { command: BenchCommand::Analytics { customers, seed, json } } => {
            let figures = analytics_bench::run(analytics_bench::Opts { customers, seed })?;
            if json {
                println!("{figures}");
            } else {
                println!("{}", serde_json::to_string_pretty(&figures)?);
            }
        }
        Command::Bench { command: BenchCommand::Manufacturing { articles, components, runs, database_url, json } } => {
            let figures = mfg_bench::run(mfg_bench::Opts { articles, components, runs, database_url }).await?;
            if json {
                println!("{figures}");
            } else {
                println!("{}", serde_json::to_string_pretty(&figures)?);
            }
        }
        Command::Import { kind, file, dry_run, skip_bad_rows, party } => {
            return import(&settings, &actor, &kind, &file, dry_run, skip_bad_rows, party).await
        }
        Command::Export { kind, format, output } => export(&settings, &actor, &kind, &format, output).await?,
    }
    Ok(0)
}

async fn serve(settings: Settings, demo: bool) -> Result<()> {
    let app = open(&settings).await?;
    let _lock = settings.lock_data_dir()?;
    if demo {
        let filled = app::demo::fill(&app, &Actor::system("demo")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if filled {
            tracing::info!("demo company filled: Distribuidora Del Plata S.R.L.");
        }
    }
    let addr: SocketAddr = settings.addr.parse().with_context(|| format!("--addr {} is not HOST:PORT", settings.addr))?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    if let Some(token) = auth::issue_setup_token(&app).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        let host = if local.ip().is_unspecified() { "127.0.0.1".to_string() } else { local.ip().to_string() };
        tracing::warn!("no users yet: create the first administrator at http://{host}:{}/setup?token={token}", local.port());
        eprintln!("\n  Create the first administrator: http://{host}:{}/setup?token={token}\n", local.port());
    }
    tracing::info!(backend = ?app.backend(), "Tendero listening on http://{local}");
    eprintln!("Tendero listening on http://{local}");
    let mailer = match (&settings.smtp_url, &settings.mail_from) {
        (Some(url), Some(from)) => {
            let cfg = app::mail::MailConfig::parse(url, from).map_err(|e| anyhow::anyhow!("smtp_url / mail_from: {e}"))?;
            Some(app::mail::Mailer::new(cfg).map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?)
        }
        (Some(_), None) | (None, Some(_)) => {
            anyhow::bail!("outgoing mail needs both smtp_url and mail_from (TENDERO_SMTP_URL, TENDERO_MAIL_FROM)")
        }
        (None, None) => None,
    };
    // A business may replace the printed layouts with its own in DATA_DIR/templates.
    let templates = settings.data_dir.join("templates");
    let state = web::AppState::new(app.clone(), settings.secure_cookies)
        .with_templates(templates.is_dir().then_some(templates))
        .with_mailer(mailer);
    let jobs = tokio::spawn(daily_jobs(app.clone()));
    let inbox = imap_config(&settings)?.map(|cfg| tokio::spawn(inbox_jobs(app.clone(), cfg, settings.imap_poll_seconds)));
    let minutes = tokio::spawn(minute_jobs(state.clone()));
    web::serve(listener, state, shutdown()).await?;
    jobs.abort();
    minutes.abort();
    if let Some(inbox) = inbox {
        inbox.abort();
    }
    app.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// What changes with time alone: customers slip from active to inactive when no purchase
/// comes; open tickets' breach flags (at start and every six hours, so a day never passes
/// without it); the customer analytics (at start and every hour, so the dashboard is never
/// more than an hour old).
async fn daily_jobs(app: App) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let system = app::Actor::system("jobs");
    for hour in 0u64.. {
        every.tick().await;
        if let Err(e) = app::analytics::refresh(&app, &system).await {
            tracing::warn!(error = %e, "customer analytics not recomputed; will try again");
        }
        if hour % 6 != 0 {
            continue;
        }
        match app::crm::refresh_lifecycles(&app).await {
            Ok(n) => tracing::info!(changed = n, "customer lifecycles refreshed"),
            Err(e) => tracing::warn!(error = %e, "customer lifecycles not refreshed; will try again"),
        }
        match app::desk::refresh_due_times(&app).await {
            Ok(r) => tracing::info!(open = r.open, changed = r.changed, "ticket due times refreshed"),
            Err(e) => tracing::warn!(error = %e, "ticket due times not refreshed; will try again"),
        }
    }
}

fn imap_config(settings: &Settings) -> Result<Option<app::inbox::ImapConfig>> {
    settings.imap_url.as_deref().map(|url| app::inbox::ImapConfig::parse(url).map_err(|e| anyhow::anyhow!("imap_url: {e}"))).transpose()
}

/// The service desk's mailbox, read every `seconds`: a round that fails (the server is
/// down) is logged and tried again at the next.
async fn inbox_jobs(app: App, cfg: app::inbox::ImapConfig, seconds: u64) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(seconds.max(5)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match app::inbox::fetch(&app, &cfg).await {
            Ok(r) if r == app::inbox::Round::default() => {}
            Ok(r) => tracing::info!(opened = ?r.opened, joined = ?r.joined, again = r.again, set_aside = r.set_aside, "mailbox read"),
            Err(e) => tracing::warn!(error = %e, "the mailbox was not read; will try again"),
        }
    }
}

/// What is due by the minute: the agenda's reminders, e-mailed to their owners (when a
/// mail server is configured).
async fn minute_jobs(state: web::AppState) {
    if state.mailer.is_none() {
        return;
    }
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match web::agenda_api::send_reminders(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sent = n, "agenda reminders e-mailed"),
            Err(e) => tracing::warn!(error = %e, "agenda reminders not sent; will try again"),
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn restore(settings: &Settings, file: &std::path::Path) -> Result<()> {
    let target = settings.sqlite_path().context("restore works on the SQLite database; for PostgreSQL use pg_restore")?;
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    // Check that it is a Tendero database before touching anything.
    let path = file.to_str().context("the backup path is not valid UTF-8")?;
    if store::Db::inspect_sqlite_file(path).await.is_err() {
        bail!("{} is not a Tendero backup", file.display());
    }
    let _lock = settings.lock_data_dir().context("stop the server before restoring")?;
    if target.exists() {
        let stamp = app::clock::now_text().replace([':', '.'], "-");
        let kept = target.with_file_name(format!("tendero.db.before-restore-{stamp}"));
        std::fs::rename(&target, &kept)?;
        println!("the current database was kept as {}", kept.display());
    }
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(target.with_extension(ext));
    }
    std::fs::copy(file, &target)?;
    let app = open(settings).await?;
    let report = app::audit::verify(&app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "restored {} ({} audit entries, chain {})",
        target.display(),
        report.entries,
        if report.first_bad.is_none() { "intact" } else { "BROKEN" }
    );
    Ok(())
}

fn import_kind(kind: &str) -> Result<app::transfer::ImportKind> {
    use app::transfer::ImportKind;
    Ok(match kind {
        "customers" | "clientes" => ImportKind::Customers,
        "suppliers" | "proveedores" => ImportKind::Suppliers,
        "products" | "articulos" | "artículos" => ImportKind::Products,
        other => bail!("{other}: import customers, suppliers, products or contacts"),
    })
}

/// Messages in the language of the environment (`LANG`), Spanish unless it is English.
fn cli_locale() -> &'static str {
    if std::env::var("LANG").unwrap_or_default().starts_with("en") {
        "en"
    } else {
        "es"
    }
}

async fn import(
    settings: &Settings,
    actor: &Actor,
    kind: &str,
    file: &std::path::Path,
    dry_run: bool,
    skip_bad_rows: bool,
    party: Option<String>,
) -> Result<i32> {
    use app::transfer::{self, ImportOptions};
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let app = open(settings).await?;
    let catalog = web::i18n::Catalog::load();
    let locale = cli_locale();
    let opts = ImportOptions { dry_run, skip_bad_rows };
    let result = if kind == "contacts" || kind == "contactos" {
        let party = party.context("contacts need --party ID (the customer or supplier they work for)")?;
        let text = String::from_utf8(bytes).context("a vCard file must be UTF-8 text")?;
        transfer::import_vcards(&app, actor, &party, &text, &opts).await
    } else {
        let kind = import_kind(kind)?;
        let table = match transfer::read_table(&bytes) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: {}", file.display(), catalog.t(locale, e.key()));
                eprintln!("  ({e})");
                return Ok(2);
            }
        };
        let bar = indicatif::ProgressBar::new(table.rows.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows · {per_sec} · {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let progress = |done: usize, _total: usize| bar.set_position(done as u64);
        let r = transfer::import(&app, actor, kind, &table, &opts, &progress).await;
        bar.finish_and_clear();
        r
    };
    let report = match result {
        Ok(r) => r,
        Err(app::AppError::Invalid(f)) => {
            for (field, key) in f.0 {
                eprintln!("{field}: {}", catalog.t(locale, &key));
            }
            return Ok(2);
        }
        Err(e) => bail!("{e}"),
    };
    for e in &report.errors {
        let field = e.field.as_deref().map(|f| format!(" {f}:")).unwrap_or_default();
        eprintln!("row {}{} {}", e.row, field, catalog.t(locale, &e.key));
    }
    println!(
        "{} rows: {} created, {} updated, {} unchanged, {} skipped, {} errors — {}",
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        report.skipped,
        report.errors.len(),
        if report.applied {
            "stored"
        } else if dry_run {
            "dry run, nothing stored"
        } else {
            "NOTHING stored"
        }
    );
    Ok(if report.errors.is_empty() {
        0
    } else if report.applied {
        3
    } else {
        2
    })
}

async fn export(settings: &Settings, actor: &Actor, kind: &str, format: &str, output: Option<std::path::PathBuf>) -> Result<()> {
    use app::transfer::{self, ExportFormat};
    let app = open(settings).await?;
    let bytes = if kind == "contacts" || kind == "contactos" {
        if format != "vcard" && format != "vcf" {
            bail!("contacts export as --format vcard");
        }
        transfer::export_vcards(&app, actor).await.map_err(|e| anyhow::anyhow!("{e}"))?.into_bytes()
    } else {
        let format = match format {
            "csv" => ExportFormat::Csv,
            "xlsx" => ExportFormat::Xlsx,
            other => bail!("--format {other}: use csv or xlsx"),
        };
        transfer::export(&app, actor, import_kind(kind)?, format).await.map_err(|e| anyhow::anyhow!("{e}"))?
    };
    match output {
        Some(path) => {
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} bytes to {}", bytes.len(), path.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
    }
    Ok(())
}

fn analytics(command: AnalyticsCommand) -> Result<i32> {
    match command {
        AnalyticsCommand::Clv { transactions, calibration_end, time_unit, horizon, clv_months, discount_monthly, format } => {
            let (text, date) = transactions_and_day(&transactions, &calibration_end, "--calibration-end", &format)?;
            let unit = match time_unit.as_str() {
                "week" => analytics::TimeUnit::Week,
                "day" => analytics::TimeUnit::Day,
                other => bail!("--time-unit {other}: use week or day"),
            };
            let tx = analytics::parse_transactions_csv(&text)?;
            let opts = analytics::ClvOptions { calibration_end: date, time_unit: unit, horizon, clv_months, discount_monthly };
            let report = analytics::clv_report(&tx, &opts)?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(0)
        }
        AnalyticsCommand::Rfm { transactions, as_of, format } => {
            let (text, date) = transactions_and_day(&transactions, &as_of, "--as-of", &format)?;
            let tx = analytics::parse_transactions_csv(&text)?;
            let customers = analytics::rfm_scores(&tx, date)?;
            println!("{}", serde_json::json!({ "as_of": as_of, "customers": customers }));
            Ok(0)
        }
    }
}

/// The CSV's text and the day of an analytics command, both checked.
fn transactions_and_day(file: &std::path::Path, day: &str, flag: &str, format: &str) -> Result<(String, time::Date)> {
    if format != "json" {
        bail!("--format json is the only format for now");
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let date = time::Date::parse(day, time::macros::format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("{flag} {day} is not YYYY-MM-DD"))?;
    Ok((text, date))
}
