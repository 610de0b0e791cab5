//! Test support: the same scenario runs on SQLite and on PostgreSQL.
//!
//! `databases()` gives a fresh SQLite file and, when PostgreSQL answers at
//! `TENDERO_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`), a
//! fresh PostgreSQL database made for this test alone. Without PostgreSQL the test says
//! plainly that it skipped it, except under `CI=true`, where that is a failure.

use crate::App;
use sqlx::Connection;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

// ---------------------------------------------------------------- a real SMTP server

/// True when `what` is here; otherwise the test skips, or fails under CI.
pub fn available(what: &str, install: &str, found: bool) -> bool {
    if !found {
        assert!(!in_ci(), "{what} is required under CI=true: {install}");
        eprintln!("SKIPPED: {what} is not installed ({install})");
    }
    found
}

pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

pub fn have_aiosmtpd() -> bool {
    available("python3 with aiosmtpd", "python3 -m pip install 'aiosmtpd>=1.4,<2'", runs("python3", &["-c", "import aiosmtpd"]))
}

/// A running aiosmtpd that stores each message in a maildir; killed when dropped, also
/// when a test panics.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
}

impl SmtpSink {
    /// Starts aiosmtpd on a free loopback port with these extra options (TLS files).
    pub fn start(extra: &[&str]) -> SmtpSink {
        let dir = TempDir::new("tendero-mail");
        // Another process may take the free port between our probe and the server's bind.
        for _attempt in 0..3 {
            let port = free_port();
            let log = std::fs::File::create(dir.0.join("server.log")).expect("server log");
            let mut child = Command::new("python3")
                .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
                .args(extra)
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(dir.0.join("maildir"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start python3 -m aiosmtpd");
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok() {
                    return SmtpSink { child, port, dir };
                }
                if let Ok(Some(status)) = child.try_wait() {
                    let log = std::fs::read_to_string(dir.0.join("server.log")).unwrap_or_default();
                    assert!(log.contains("in use"), "aiosmtpd exited ({status}):\n{log}");
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(dir.0.join("server.log")).unwrap_or_default();
                    panic!("aiosmtpd did not accept connections on port {port} within 30 s:\n{log}");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("no free port for aiosmtpd after 3 attempts");
    }

    pub fn url(&self, scheme: &str, query: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{query}", self.port)
    }

    /// The files of the messages received so far.
    pub fn received(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(self.dir.0.join("maildir").join("new")) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        files
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// True when Debian's dovecot (IMAP server) can run here as root; otherwise the test
/// skips, or fails under CI.
pub fn have_dovecot() -> bool {
    let root = runs("id", &["-u"]) && Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    available(
        "dovecot (IMAP server) run as root",
        "apt-get install -y dovecot-imapd",
        root && std::path::Path::new("/usr/sbin/dovecot").exists() && runs("id", &["dovecot"]),
    )
}

/// A real IMAP server on loopback: Debian's dovecot with its own configuration in a
/// temporary directory, one user with a maildir, plain login. Stopped when dropped.
pub struct ImapServer {
    pub port: u16,
    pub dir: TempDir,
    config: PathBuf,
}

impl ImapServer {
    pub const USER: &'static str = "soporte@delplata.test";
    pub const PASSWORD: &'static str = "clave-imap-de-prueba";

    pub fn start() -> ImapServer {
        let dir = TempDir::new("tendero-imap");
        let d = dir.0.display().to_string();
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(dir.0.join(sub)).expect("dovecot dirs");
        }
        // The mail processes run as the package's `dovecot` user: it owns the homes.
        let ok = Command::new("chown").args(["-R", "dovecot:dovecot", &format!("{d}/home")]).status().is_ok_and(|s| s.success());
        assert!(ok, "chown of the dovecot home failed");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::write(dir.0.join("users"), format!("{}:{{PLAIN}}{}::::::\n", Self::USER, Self::PASSWORD)).expect("users");
        for _attempt in 0..3 {
            let port = free_port();
            let config = dir.0.join("dovecot.conf");
            std::fs::write(
                &config,
                format!(
                    "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
                     ssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n\
                     passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
                     userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={d}/home/%u\n}}\n\
                     mail_location = maildir:~/Maildir\nfirst_valid_uid = 1\n\
                     service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
                     service anvil {{\n  chroot =\n}}\n"
                ),
            )
            .expect("dovecot.conf");
            let started = Command::new("/usr/sbin/dovecot").arg("-c").arg(&config).status().is_ok_and(|s| s.success());
            let up = started
                && (0..100).any(|_| {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    TcpStream::connect(("127.0.0.1", port)).is_ok()
                });
            if up {
                return ImapServer { port, dir, config };
            }
            let _ = Command::new("/usr/bin/doveadm").arg("-c").arg(&config).arg("stop").status();
        }
        let log = std::fs::read_to_string(dir.0.join("dovecot.log")).unwrap_or_default();
        panic!("dovecot did not start: {log}");
    }

    /// The mailbox as Tendero's setting names it.
    pub fn url(&self) -> String {
        format!("imap://{}:{}@127.0.0.1:{}/INBOX", Self::USER.replace('@', "%40"), Self::PASSWORD, self.port)
    }

    /// Delivers a mail into the inbox, as the mail server would (`doveadm save`).
    pub fn deliver(&self, raw: &str) {
        use std::io::Write;
        let mut child = Command::new("/usr/bin/doveadm")
            .arg("-c")
            .arg(&self.config)
            .args(["save", "-u", Self::USER])
            .stdin(Stdio::piped())
            .spawn()
            .expect("doveadm save");
        child.stdin.take().expect("stdin").write_all(raw.replace('\n', "\r\n").as_bytes()).expect("write mail");
        assert!(child.wait().is_ok_and(|s| s.success()), "doveadm save failed");
    }
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        let _ = Command::new("/usr/bin/doveadm").arg("-c").arg(&self.config).arg("stop").status();
    }
}
