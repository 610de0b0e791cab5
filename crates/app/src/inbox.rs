//! The service desk's mailbox, read over IMAP: each unread mail becomes a ticket or joins
//! the conversation it answers ([`crate::desk::receive_mail`]), and is marked read only
//! after that was committed. A mail read twice (a crash between the two) is recognised by
//! its `Message-ID` and filed once.
//!
//! The mailbox is named by a URL: `imap://USER:PASS@HOST:143/INBOX` (plain, for a server on
//! this machine) or `imaps://USER:PASS@HOST:993/INBOX` (TLS with the Mozilla roots).

use crate::desk::{self, IncomingMail, Received};
use crate::mail::{percent_decode, split_host_port, MailError};
use crate::App;
use async_imap::Client;
use futures_util::StreamExt;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// How many unread mails one round reads at most (the rest wait for the next).
const ROUND: usize = 50;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the mailbox is and how to log in.
#[derive(Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub user: String,
    password: String,
    pub mailbox: String,
}

impl Debug for ImapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("mailbox", &self.mailbox)
            .finish()
    }
}

impl ImapConfig {
    pub fn parse(url: &str) -> Result<ImapConfig, MailError> {
        let bad = |why: &str| MailError::BadConfig(format!("{why} (expected imap://USER:PASS@HOST:PORT/MAILBOX or imaps://…)"));
        let (scheme, rest) = url.trim().split_once("://").ok_or_else(|| bad("not a URL"))?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "imap" => false,
            "imaps" => true,
            _ => return Err(bad("the scheme must be imap or imaps")),
        };
        let (authority, mailbox) = rest.split_once('/').unwrap_or((rest, ""));
        let mailbox = percent_decode(mailbox).ok_or_else(|| bad("the mailbox is badly percent-encoded"))?;
        let mailbox = if mailbox.is_empty() { "INBOX".to_string() } else { mailbox };
        // The last '@' ends the login, so an unencoded '@' in a user name still works.
        let (userinfo, hostport) = authority.rsplit_once('@').ok_or_else(|| bad("the user and password are missing"))?;
        let (user, password) = userinfo.split_once(':').ok_or_else(|| bad("the password is missing"))?;
        let user = percent_decode(user).filter(|u| !u.is_empty()).ok_or_else(|| bad("the user name is empty or badly encoded"))?;
        let password = percent_decode(password).ok_or_else(|| bad("the password is badly percent-encoded"))?;
        let (host, port) = split_host_port(hostport).ok_or_else(|| bad("the host or port is not valid"))?;
        let port = port.unwrap_or(if tls { 993 } else { 143 });
        Ok(ImapConfig { host, port, tls, user, password, mailbox })
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub opened: Vec<String>,
    pub joined: Vec<String>,
    /// Read before: only marked read now.
    pub again: usize,
    /// Not a mail Tendero can file (no sender): flagged in the mailbox for a person.
    pub set_aside: usize,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> Io for T {}

fn net(e: impl std::fmt::Display) -> MailError {
    MailError::Send(e.to_string())
}

async fn connect(cfg: &ImapConfig) -> Result<Box<dyn Io>, MailError> {
    let tcp = tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect((cfg.host.as_str(), cfg.port)))
        .await
        .map_err(|_| net("connecting to the IMAP server timed out"))?
        .map_err(net)?;
    if !cfg.tls {
        return Ok(Box::new(tcp));
    }
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(net)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(cfg.host.clone()).map_err(net)?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(net)?;
    Ok(Box::new(tls))
}

/// Reads the unread mails of the mailbox once and files them.
pub async fn fetch(app: &App, cfg: &ImapConfig) -> Result<Round, MailError> {
    tokio::time::timeout(TIMEOUT * 4, fetch_inner(app, cfg)).await.map_err(|_| net("the IMAP round timed out"))?
}

async fn fetch_inner(app: &App, cfg: &ImapConfig) -> Result<Round, MailError> {
    let mut client = Client::new(connect(cfg).await?);
    client.read_response().await.map_err(net)?.ok_or_else(|| net("the IMAP server closed the connection"))?;
    let mut session = client.login(&cfg.user, &cfg.password).await.map_err(|(e, _)| MailError::Rejected(format!("IMAP login: {e}")))?;
    session.select(&cfg.mailbox).await.map_err(net)?;
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").await.map_err(net)?.into_iter().collect();
    uids.sort_unstable();
    uids.truncate(ROUND);
    let mut round = Round::default();
    for uid in uids {
        let raw = {
            let mut fetched = session.uid_fetch(uid.to_string(), "BODY.PEEK[]").await.map_err(net)?;
            let mut raw = None;
            while let Some(f) = fetched.next().await {
                let f = f.map_err(net)?;
                if raw.is_none() {
                    raw = f.body().map(<[u8]>::to_vec);
                }
            }
            raw
        };
        let flag = match raw.as_deref().and_then(parse) {
            Some(mail) => match desk::receive_mail(app, &mail).await {
                Ok(Received::Opened(r)) => {
                    round.opened.push(r);
                    "+FLAGS (\\Seen)"
                }
                Ok(Received::Joined(r)) => {
                    round.joined.push(r);
                    "+FLAGS (\\Seen)"
                }
                Ok(Received::AlreadyRead) => {
                    round.again += 1;
                    "+FLAGS (\\Seen)"
                }
                // The database failed: the mail stays unread for the next round.
                Err(e) => {
                    tracing::warn!(uid, error = %e, "an incoming mail was not filed; it stays unread");
                    continue;
                }
            },
            None => {
                tracing::warn!(uid, "an incoming mail has no sender Tendero can read; flagged for a person");
                round.set_aside += 1;
                "+FLAGS (\\Seen \\Flagged)"
            }
        };
        let mut stored = session.uid_store(uid.to_string(), flag).await.map_err(net)?;
        while let Some(r) = stored.next().await {
            r.map_err(net)?;
        }
    }
    let _ = session.logout().await;
    Ok(round)
}

/// What Tendero keeps of a mail: its sender, subject, text and the mails it answers.
/// `None` when it has no sender address.
pub fn parse(raw: &[u8]) -> Option<IncomingMail> {
    let msg = mailparse::parse_mail(raw).ok()?;
    let headers = msg.headers.as_slice();
    let from = mailparse::addrparse_header(mailparse::MailHeaderMap::get_first_header(headers, "From")?).ok()?;
    let (from_name, from_email) = from.iter().find_map(|a| match a {
        mailparse::MailAddr::Single(s) => Some((s.display_name.clone(), s.addr.clone())),
        mailparse::MailAddr::Group(g) => g.addrs.first().map(|s| (s.display_name.clone(), s.addr.clone())),
    })?;
    if !from_email.contains('@') {
        return None;
    }
    let get = |name: &str| mailparse::MailHeaderMap::get_first_value(headers, name);
    let ids = |v: Option<String>| -> Vec<String> {
        v.unwrap_or_default()
            .split_whitespace()
            .flat_map(|s| s.split(','))
            .filter(|s| s.starts_with('<') && s.ends_with('>') && s.len() > 2)
            .map(str::to_string)
            .collect()
    };
    let mut references = ids(get("In-Reply-To"));
    references.extend(ids(get("References")).into_iter().rev());
    Some(IncomingMail {
        message_id: ids(get("Message-ID")).into_iter().next(),
        from_name,
        from_email,
        subject: get("Subject").unwrap_or_default(),
        body: text_of(&msg),
        references,
    })
}

/// The mail's text: its first `text/plain` part, else its first HTML part with the tags
/// taken out.
fn text_of(msg: &mailparse::ParsedMail) -> String {
    fn find<'a>(m: &'a mailparse::ParsedMail<'a>, mime: &str) -> Option<&'a mailparse::ParsedMail<'a>> {
        if m.subparts.is_empty() {
            return (m.ctype.mimetype == mime
                && !mailparse::MailHeaderMap::get_first_value(m.headers.as_slice(), "Content-Disposition")
                    .is_some_and(|d| d.starts_with("attachment")))
            .then_some(m);
        }
        m.subparts.iter().find_map(|p| find(p, mime))
    }
    if let Some(p) = find(msg, "text/plain") {
        return p.get_body().unwrap_or_default().trim().to_string();
    }
    let Some(html) = find(msg, "text/html").and_then(|p| p.get_body().ok()) else { return String::new() };
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_urls_are_read_and_bad_ones_explained() {
        let c = ImapConfig::parse("imaps://soporte%40delplata.com.ar:s%3Acreto@mail.delplata.com.ar/Soporte").expect("url");
        assert_eq!(
            (c.host.as_str(), c.port, c.tls, c.user.as_str(), c.mailbox.as_str()),
            ("mail.delplata.com.ar", 993, true, "soporte@delplata.com.ar", "Soporte")
        );
        assert_eq!(c.password, "s:creto");
        let c = ImapConfig::parse("imap://agente:clave@127.0.0.1:1143").expect("url");
        assert_eq!((c.port, c.tls, c.mailbox.as_str()), (1143, false, "INBOX"));
        for bad in ["pop3://a:b@h", "imap://h:143/INBOX", "imap://a@h", "imap://a:b@bad host", "imap://a:b@h:99999"] {
            assert!(ImapConfig::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{c:?}").contains("clave"), "the password never reaches a log");
    }

    #[test]
    fn a_mail_gives_its_sender_subject_text_and_the_mails_it_answers() {
        let raw = "From: =?utf-8?q?Juan_P=C3=A9rez?= <juan@cliente.example>\r\nTo: soporte@delplata.example\r\n\
                   Subject: Re: [T-000042] =?utf-8?q?No_lleg=C3=B3?=\r\nMessage-ID: <r1@cliente.example>\r\n\
                   In-Reply-To: <a@delplata.example>\r\nReferences: <z@delplata.example> <a@delplata.example>\r\n\
                   MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
                   --b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Sigue sin <b>llegar</b></p>\r\n\
                   --b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nSigue sin lleg=C3=B3\r\n--b--\r\n";
        let m = parse(raw.as_bytes()).expect("mail");
        assert_eq!((m.from_name.as_deref(), m.from_email.as_str()), (Some("Juan Pérez"), "juan@cliente.example"));
        assert_eq!(m.subject, "Re: [T-000042] No llegó");
        assert_eq!(m.body, "Sigue sin llegó");
        assert_eq!(m.message_id.as_deref(), Some("<r1@cliente.example>"));
        assert_eq!(m.references.first().map(String::as_str), Some("<a@delplata.example>"));
        let html = "From: a@b.example\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<div>Hola&nbsp;<i>mundo</i></div>\r\n";
        assert_eq!(parse(html.as_bytes()).map(|m| m.body), Some("Hola mundo".to_string()));
        assert!(parse(b"Subject: sin remitente\r\n\r\nhola").is_none());
    }
}
