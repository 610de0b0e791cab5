//! Outgoing e-mail: invoices, quotes and reminders sent to customers over SMTP, with
//! attachments. Where to send is one URL, so that it fits one setting or environment
//! variable:
//!
//! - `smtp://HOST:PORT` sends in the clear (a relay on the same machine or network, tests);
//! - `smtp://HOST:PORT?tls=starttls` upgrades with STARTTLS and refuses to go on without it
//!   (default port 587);
//! - `smtps://HOST:PORT` speaks TLS from the first byte (default port 465);
//! - `user:password@` before the host logs in (percent-encode `@`, `:` and `%` in them).
//!
//! TLS is rustls with the Mozilla roots built in, so the program trusts the same servers on
//! every machine; a company's own CA can be added with [`MailConfig::with_root_certificate`].
//! Every address is checked before any connection is made, and every send has a deadline,
//! so that a dead server cannot hang the request that sends.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// How long connecting may take, and a whole send of an ordinary message, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A big attachment on a slow uplink legitimately takes longer than a dead server
/// should: each 64 KiB of message adds one second to the deadline.
const BYTES_PER_EXTRA_SECOND: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail URL or another setting is unusable; says what and why.
    #[error("mail settings: {0}")]
    BadConfig(String),
    /// Not an e-mail address; holds the text as given.
    #[error("not a valid e-mail address: {0:?}")]
    BadAddress(String),
    /// The message cannot be built (no recipient, a bad attachment).
    #[error("mail message: {0}")]
    BadMessage(String),
    /// The server could not be reached, TLS failed, the deadline passed, or the server
    /// refused for now: worth trying again later.
    #[error("mail not sent: {0}")]
    Send(String),
    /// The server refused for good (5xx: unknown mailbox, message too large, login
    /// refused): trying again will not help.
    #[error("mail refused by the server: {0}")]
    Rejected(String),
}

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No encryption: only for a relay on the same machine or a trusted network.
    Plain,
    /// Plain connection upgraded with STARTTLS; sending fails if the server cannot.
    StartTls,
    /// TLS from the first byte (often called SSL, port 465).
    ImplicitTls,
}

/// A login for the SMTP server. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login").field("user", &self.user).field("password", &"<hidden>").finish()
    }
}

/// Where and how to send, and who the messages come from.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub login: Option<Login>,
    /// The `From` of every message, e.g. `Ferretería Ñandú <ventas@example.com>`.
    pub from: Mailbox,
    /// Deadline for connecting and for a whole send (see [`Mailer::send`]).
    pub timeout: Duration,
    /// Extra trusted CA certificates (PEM), besides the built-in roots.
    extra_roots: Vec<Vec<u8>>,
}

impl MailConfig {
    /// Reads a mail URL (see the module documentation) and the sender's address.
    pub fn parse(url: &str, from: &str) -> Result<MailConfig, MailError> {
        let bad = |why: &str| MailError::BadConfig(format!("{why} (expected smtp://HOST:PORT, smtp://HOST?tls=starttls or smtps://HOST)"));
        let (scheme, rest) = url.trim().split_once("://").ok_or_else(|| bad("not a URL"))?;
        let implicit_tls = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(bad("the scheme must be smtp or smtps")),
        };
        if rest.contains('#') {
            return Err(bad("unexpected '#' in the URL"));
        }
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = match rest.split_once('/') {
            Some((a, "")) => a,
            Some(_) => return Err(bad("the URL must not have a path")),
            None => rest,
        };

        // The last '@' ends the login, so an unencoded '@' in a password still works.
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let login = match userinfo {
            None => None,
            Some(u) => {
                let (user, password) = u.split_once(':').unwrap_or((u, ""));
                let user = percent_decode(user).ok_or_else(|| bad("the user name is badly percent-encoded"))?;
                let password = percent_decode(password).ok_or_else(|| bad("the password is badly percent-encoded"))?;
                if user.is_empty() {
                    return Err(bad("the user name is empty"));
                }
                Some(Login { user, password })
            }
        };

        let (host, port) = split_host_port(hostport).ok_or_else(|| bad("the host or port is not valid"))?;

        let mut starttls = false;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("tls", v)) if v.eq_ignore_ascii_case("starttls") => starttls = true,
                _ => return Err(bad(&format!("unknown option {pair:?} (the only one is tls=starttls)"))),
            }
        }
        let security = match (implicit_tls, starttls) {
            (true, true) => return Err(bad("smtps:// already uses TLS; tls=starttls is for smtp://")),
            (true, false) => Security::ImplicitTls,
            (false, true) => Security::StartTls,
            (false, false) => Security::Plain,
        };
        let port = port.unwrap_or(match security {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::ImplicitTls => 465,
        });
        if security == Security::Plain && login.is_some() && !is_loopback(&host) {
            return Err(MailError::BadConfig(format!(
                "a password would cross the network unencrypted to {host}; use smtps:// or ?tls=starttls"
            )));
        }

        let from = parse_mailbox(from)?;
        Ok(MailConfig { host, port, security, login, from, timeout: DEFAULT_TIMEOUT, extra_roots: Vec::new() })
    }

    /// The same settings with another deadline (see [`Mailer::send`]).
    pub fn with_timeout(mut self, timeout: Duration) -> MailConfig {
        self.timeout = timeout;
        self
    }

    /// Also trust the CA certificate(s) in this PEM text, e.g. a company's own mail server
    /// CA. The built-in roots stay trusted.
    pub fn with_root_certificate(mut self, pem: &[u8]) -> Result<MailConfig, MailError> {
        // lettre accepts text without any certificate in it; an empty trust list helps nobody.
        let has_cert = std::str::from_utf8(pem).is_ok_and(|s| s.contains("-----BEGIN CERTIFICATE-----"));
        if !has_cert || Certificate::from_pem(pem).is_err() {
            return Err(MailError::BadConfig("the root certificate is not a PEM certificate".into()));
        }
        self.extra_roots.push(pem.to_vec());
        Ok(self)
    }
}

/// A file sent along with a message. Always sent base64-encoded, so its bytes arrive
/// exactly as given (line endings included).
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The name the recipient sees, e.g. `Factura 0001-00000042.pdf`.
    pub filename: String,
    /// A MIME type, e.g. `application/pdf`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// One message to send, from [`MailConfig::from`]. Addresses may carry a name:
/// `Juan Pérez <juan@example.com>`.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub to: Vec<String>,
    pub subject: String,
    /// Plain text; UTF-8 is fine anywhere.
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Where answers should go when not to the sender, e.g. the salesperson.
    pub reply_to: Option<String>,
}

/// Sends messages. Cheap to clone; each send opens its own connection, so a failed or
/// timed-out send never leaves a half-used connection behind for the next one.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
    describe: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("server", &self.inner.describe).field("from", &self.inner.from).finish()
    }
}

impl Mailer {
    /// Prepares the transport (TLS settings included); connects only when sending.
    pub fn new(cfg: MailConfig) -> Result<Mailer, MailError> {
        let tls = match cfg.security {
            Security::Plain => Tls::None,
            Security::StartTls => Tls::Required(tls_parameters(&cfg)?),
            Security::ImplicitTls => Tls::Wrapper(tls_parameters(&cfg)?),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.as_str()).port(cfg.port).tls(tls).timeout(Some(cfg.timeout));
        if let Some(login) = &cfg.login {
            builder = builder.credentials(Credentials::new(login.user.clone(), login.password.clone()));
        }
        let describe = format!("{}:{} ({:?})", cfg.host, cfg.port, cfg.security);
        Ok(Mailer { inner: Arc::new(Inner { transport: builder.build(), from: cfg.from, timeout: cfg.timeout, describe }) })
    }

    /// Sends one message and returns its `Message-ID` header value (with the angle
    /// brackets, as `In-Reply-To` wants it). Every address is checked before connecting.
    /// The deadline is the configured timeout plus one second per 64 KiB of message.
    #[tracing::instrument(skip_all, fields(server = %self.inner.describe, recipients = msg.to.len(), attachments = msg.attachments.len()))]
    pub async fn send(&self, msg: &Message) -> Result<String, MailError> {
        let (message_id, email) = self.build(msg)?;
        let bytes = email.formatted();
        let deadline = self.inner.timeout + Duration::from_secs((bytes.len() / BYTES_PER_EXTRA_SECOND) as u64);
        match tokio::time::timeout(deadline, self.inner.transport.send_raw(email.envelope(), &bytes)).await {
            Ok(Ok(_)) => {
                tracing::info!(%message_id, "mail sent");
                Ok(message_id)
            }
            Ok(Err(e)) if e.is_permanent() => {
                tracing::warn!(error = %e, "mail refused by the server");
                Err(MailError::Rejected(e.to_string()))
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "mail not sent");
                Err(MailError::Send(e.to_string()))
            }
            Err(_) => {
                tracing::warn!(?deadline, "mail server did not finish in time");
                Err(MailError::Send(format!("no answer from {} within {} s", self.inner.describe, deadline.as_secs_f32())))
            }
        }
    }

    fn build(&self, msg: &Message) -> Result<(String, lettre::Message), MailError> {
        if msg.to.is_empty() {
            return Err(MailError::BadMessage("no recipient".into()));
        }
        // Message-IDs name the sender's domain, not this machine's host name.
        let message_id = format!("<{}@{}>", uuid::Uuid::now_v7().simple(), self.inner.from.email.domain());
        let mut builder =
            lettre::Message::builder().from(self.inner.from.clone()).subject(one_line(&msg.subject)).message_id(Some(message_id.clone()));
        for to in &msg.to {
            builder = builder.to(parse_mailbox(to)?);
        }
        if let Some(reply_to) = &msg.reply_to {
            builder = builder.reply_to(parse_mailbox(reply_to)?);
        }
        let text = SinglePart::plain(msg.text.clone());
        let email = if msg.attachments.is_empty() {
            builder.singlepart(text)
        } else {
            let mut mixed = MultiPart::mixed().singlepart(text);
            for a in &msg.attachments {
                mixed = mixed.singlepart(attachment_part(a)?);
            }
            builder.multipart(mixed)
        };
        let email = email.map_err(|e| MailError::BadMessage(e.to_string()))?;
        Ok((message_id, email))
    }
}

fn attachment_part(a: &Attachment) -> Result<SinglePart, MailError> {
    let filename = one_line(&a.filename);
    if filename.trim().is_empty() {
        return Err(MailError::BadMessage("an attachment has no file name".into()));
    }
    let content_type = ContentType::parse(a.content_type.trim())
        .map_err(|_| MailError::BadMessage(format!("attachment {filename:?}: {:?} is not a content type", a.content_type)))?;
    let body = Body::new_with_encoding(a.bytes.clone(), lettre::message::header::ContentTransferEncoding::Base64)
        .map_err(|_| MailError::BadMessage(format!("attachment {filename:?} cannot be encoded")))?;
    Ok(lettre::message::Attachment::new(filename).body(body, content_type))
}

fn tls_parameters(cfg: &MailConfig) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(cfg.host.clone());
    for pem in &cfg.extra_roots {
        let cert = Certificate::from_pem(pem).map_err(|e| MailError::BadConfig(format!("root certificate: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|e| MailError::BadConfig(format!("TLS for {}: {e}", cfg.host)))
}

fn parse_mailbox(s: &str) -> Result<Mailbox, MailError> {
    s.trim().parse::<Mailbox>().map_err(|_| MailError::BadAddress(s.to_string()))
}

/// Header text is one line: a pasted line break must not end the header (or start a new one).
fn one_line(s: &str) -> String {
    s.split(['\r', '\n']).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the host as lettre wants it (no brackets).
pub(crate) fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        addr.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (addr.to_string(), port)
    } else {
        let (host, port) = match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        let valid = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !valid {
            return None;
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) => Some(p.parse::<u16>().ok().filter(|&p| p != 0)?),
    };
    Some((host, port))
}

/// `%XX` escapes to bytes, then UTF-8; `None` for a broken escape or invalid UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = (bytes.next()? as char).to_digit(16)?;
            let lo = (bytes.next()? as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}
