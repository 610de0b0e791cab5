//! Outgoing mail against a real SMTP server: Python's aiosmtpd on loopback, saving what
//! it receives to a maildir, read back with Python's own MIME parser (not lettre's), so
//! that what a customer's mail program would see is checked, not what we meant to write.
//! Needs `python3 -m pip install 'aiosmtpd>=1.4,<2'` and, for the TLS test, `openssl`.
//! Without them these tests say SKIPPED, except under `CI=true`, where they fail.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use app::mail::{Attachment, MailConfig, MailError, Mailer, Message, Security};
use app::testkit::TempDir;
use serde_json::Value;

const FROM: &str = "Ferretería Ñandú <ventas@ferreteria-nandu.com.ar>";
const SUBJECT: &str = "Factura 0001-00000042 — Ferretería Ñandú";
const TEXT: &str = "Estimado cliente:\n\nAdjuntamos la factura 0001-00000042 por $ 12.345,67.\n\
                    ¿Dudas? Respondé este correo.\n\nGracias por su compra — Ferretería Ñandú\n";

use app::testkit::{available, free_port, have_aiosmtpd, runs, SmtpSink};

/// Python's e-mail parser (strict `policy.default`) reads the stored message and reports
/// what a mail program would show, as JSON.
const READ_MESSAGE: &str = r#"
import sys, json, email
from email import policy
with open(sys.argv[1], 'rb') as f:
    m = email.message_from_binary_file(f, policy=policy.default)
def people(h):
    return [[a.display_name, a.addr_spec] for a in m[h].addresses] if m[h] else []
body = m.get_body(preferencelist=('plain',))
print(json.dumps({
    'from': people('From'),
    'to': people('To'),
    'reply_to': people('Reply-To'),
    'subject': str(m['Subject']),
    'message_id': str(m['Message-ID']),
    'rcpt_to': str(m['X-RcptTo']),
    'content_type': m.get_content_type(),
    'text': body.get_content(),
    'text_charset': body.get_content_charset(),
    'attachments': [{
        'filename': a.get_filename(),
        'content_type': a.get_content_type(),
        'encoding': str(a.get('Content-Transfer-Encoding', '')),
        'bytes': list(a.get_payload(decode=True)),
    } for a in m.iter_attachments()],
    'defects': [repr(d) for p in m.walk() for d in p.defects],
}))
"#;

fn read_message(path: &Path) -> Value {
    let out = Command::new("python3").args(["-c", READ_MESSAGE]).arg(path).output().expect("run python3");
    assert!(out.status.success(), "python could not read {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json from python")
}

fn pdf() -> Vec<u8> {
    // Every byte value and bare CR/LF: the attachment must come back bit for bit.
    let mut bytes = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\r\n".to_vec();
    bytes.extend((0..=255u8).cycle().take(3000));
    bytes.extend_from_slice(b"\n\r\n%%EOF\n");
    bytes
}

fn invoice_message() -> Message {
    Message {
        to: vec!["Cliente Peña <cliente@example.com>".into(), "contaduria@example.com".into()],
        subject: SUBJECT.into(),
        text: TEXT.into(),
        attachments: vec![
            Attachment { filename: "Factura 0001-00000042.pdf".into(), content_type: "application/pdf".into(), bytes: pdf() },
            Attachment {
                filename: "Detalle ñandú.csv".into(),
                content_type: "text/csv; charset=utf-8".into(),
                bytes: "artículo;cantidad\r\nTornillo ½\";100\r\n".as_bytes().to_vec(),
            },
        ],
        reply_to: Some("Vendedor López <lopez@ferreteria-nandu.com.ar>".into()),
    }
}

fn attachment_bytes(a: &Value) -> Vec<u8> {
    a["bytes"].as_array().expect("bytes").iter().map(|b| b.as_u64().expect("byte") as u8).collect()
}

#[tokio::test]
async fn an_invoice_in_spanish_with_its_pdf_reaches_a_real_smtp_server_intact() {
    if !have_aiosmtpd() {
        return;
    }
    let sink = SmtpSink::start(&[]);
    let mailer = Mailer::new(MailConfig::parse(&sink.url("smtp", ""), FROM).expect("config")).expect("mailer");
    let sent = invoice_message();
    let message_id = mailer.send(&sent).await.expect("sent");

    let files = sink.received();
    assert_eq!(files.len(), 1, "one message in the maildir");
    let raw = std::fs::read(&files[0]).expect("read the stored message");
    assert!(raw.is_ascii(), "headers and bodies are encoded to 7-bit, so every relay passes them unchanged");
    let m = read_message(&files[0]);

    assert_eq!(m["defects"], serde_json::json!([]), "the MIME structure is clean");
    assert_eq!(m["from"], serde_json::json!([["Ferretería Ñandú", "ventas@ferreteria-nandu.com.ar"]]));
    assert_eq!(m["to"], serde_json::json!([["Cliente Peña", "cliente@example.com"], ["", "contaduria@example.com"]]));
    assert_eq!(m["reply_to"], serde_json::json!([["Vendedor López", "lopez@ferreteria-nandu.com.ar"]]));
    assert_eq!(m["rcpt_to"], "cliente@example.com, contaduria@example.com", "the envelope has every recipient");
    assert_eq!(m["subject"], SUBJECT);
    assert_eq!(m["message_id"], message_id.as_str());
    assert!(message_id.starts_with('<') && message_id.ends_with("@ferreteria-nandu.com.ar>"), "{message_id}");
    assert_eq!(m["content_type"], "multipart/mixed");
    assert_eq!(m["text"].as_str().map(|t| t.replace("\r\n", "\n")).as_deref(), Some(TEXT));
    assert_eq!(m["text_charset"], "utf-8");

    let atts = m["attachments"].as_array().expect("attachments");
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0]["filename"], "Factura 0001-00000042.pdf");
    assert_eq!(atts[0]["content_type"], "application/pdf");
    assert_eq!(atts[0]["encoding"], "base64");
    assert_eq!(attachment_bytes(&atts[0]), sent.attachments[0].bytes, "the PDF arrives bit for bit");
    assert_eq!(atts[1]["filename"], "Detalle ñandú.csv");
    assert_eq!(atts[1]["content_type"], "text/csv");
    assert_eq!(atts[1]["encoding"], "base64", "text attachments too, so their line endings survive");
    assert_eq!(attachment_bytes(&atts[1]), sent.attachments[1].bytes);

    // A message without attachments is a plain text one, and a pasted line break in the
    // subject cannot smuggle in a header.
    let short = Message {
        to: vec!["cliente@example.com".into()],
        subject: "Recordatorio\r\nBcc: espia@example.com".into(),
        text: "Su pedido está listo.".into(),
        ..Message::default()
    };
    mailer.send(&short).await.expect("sent");
    let files = sink.received();
    assert_eq!(files.len(), 2);
    let m = files.iter().map(|f| read_message(f)).find(|m| m["message_id"] != message_id.as_str()).expect("second message");
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["subject"], "Recordatorio Bcc: espia@example.com");
    assert_eq!(m["rcpt_to"], "cliente@example.com");
    assert_eq!(m["text"].as_str().map(str::trim_end), Some("Su pedido está listo."));
    assert_eq!(m["attachments"], serde_json::json!([]));
}

#[tokio::test]
async fn a_bad_address_is_refused_before_connecting() {
    // A listener that counts as "the server": nothing may ever connect to it.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let mailer = Mailer::new(MailConfig::parse(&format!("smtp://127.0.0.1:{port}"), FROM).expect("config")).expect("mailer");

    for bad in ["no es una dirección", "cliente@", "@example.com", "cliente@@example.com", "Cliente <cliente>", ""] {
        let msg = Message { to: vec!["cliente@example.com".into(), bad.into()], subject: "x".into(), ..Message::default() };
        match mailer.send(&msg).await {
            Err(MailError::BadAddress(a)) => assert_eq!(a, bad),
            other => panic!("{bad:?}: expected BadAddress, got {other:?}"),
        }
    }
    let msg = Message { to: vec!["cliente@example.com".into()], reply_to: Some("vendedor".into()), ..Message::default() };
    assert!(matches!(mailer.send(&msg).await, Err(MailError::BadAddress(a)) if a == "vendedor"));
    assert!(matches!(mailer.send(&Message::default()).await, Err(MailError::BadMessage(_))), "no recipient");
    let with = |a: Attachment| Message { to: vec!["cliente@example.com".into()], attachments: vec![a], ..Message::default() };
    let bad_type = with(Attachment { filename: "f.pdf".into(), content_type: "no es un tipo".into(), bytes: vec![1] });
    assert!(matches!(mailer.send(&bad_type).await, Err(MailError::BadMessage(_))));
    let no_name = with(Attachment { filename: " ".into(), content_type: "application/pdf".into(), bytes: vec![1] });
    assert!(matches!(mailer.send(&no_name).await, Err(MailError::BadMessage(_))));

    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("nothing should have connected, got {other:?}"),
    }
    assert!(matches!(MailConfig::parse("smtp://127.0.0.1:2525", "ventas"), Err(MailError::BadAddress(a)) if a == "ventas"));
}

#[tokio::test]
async fn a_dead_server_gives_a_send_error_within_the_timeout() {
    let timeout = Duration::from_millis(800);
    let msg = Message { to: vec!["cliente@example.com".into()], subject: "x".into(), text: "y".into(), ..Message::default() };

    // Nobody listening: refused at once.
    let port = free_port();
    let cfg = MailConfig::parse(&format!("smtp://127.0.0.1:{port}"), FROM).expect("config").with_timeout(timeout);
    let started = Instant::now();
    let result = Mailer::new(cfg).expect("mailer").send(&msg).await;
    assert!(matches!(result, Err(MailError::Send(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A server that accepts the connection and then says nothing: the deadline ends it.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let cfg = MailConfig::parse(&format!("smtp://127.0.0.1:{port}"), FROM).expect("config").with_timeout(timeout);
    let started = Instant::now();
    let result = Mailer::new(cfg).expect("mailer").send(&msg).await;
    let took = started.elapsed();
    assert!(matches!(result, Err(MailError::Send(_))), "{result:?}");
    assert!(took >= timeout && took < timeout + Duration::from_secs(3), "gave up after {took:?}");
    drop(silent);
}

#[tokio::test]
async fn a_permanent_refusal_is_rejected_not_retryable() {
    if !have_aiosmtpd() {
        return;
    }
    let sink = SmtpSink::start(&["-s", "2000"]);
    let mailer = Mailer::new(MailConfig::parse(&sink.url("smtp", ""), FROM).expect("config")).expect("mailer");
    let result = mailer.send(&invoice_message()).await;
    assert!(matches!(result, Err(MailError::Rejected(_))), "too large for the server: {result:?}");
    assert!(sink.received().is_empty());
}

/// A throwaway CA and a certificate for 127.0.0.1 signed by it, made with `openssl` in
/// `dir`: returns the paths of the CA certificate, the server certificate and its key.
fn make_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        .expect("write server.ext");
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    for args in [
        format!("req -x509 {ec} -keyout ca.key -out ca.pem -days 2 -subj /CN=Tendero-test-CA"),
        format!("req {ec} -keyout server.key -out server.csr -subj /CN=127.0.0.1"),
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext".to_string(),
    ] {
        let out = Command::new("openssl").args(args.split(' ')).current_dir(dir).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&out.stderr));
    }
    (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"))
}

#[tokio::test]
async fn starttls_and_implicit_tls_send_only_to_a_trusted_certificate() {
    if !have_aiosmtpd() || !available("openssl", "apt-get install openssl", runs("openssl", &["version"])) {
        return;
    }
    let certs = TempDir::new("tendero-mail-certs");
    let (ca, cert, key) = make_certificates(&certs.0);
    let ca_pem = std::fs::read(&ca).expect("ca");
    let (cert, key) = (cert.to_string_lossy().into_owned(), key.to_string_lossy().into_owned());
    let msg = Message { to: vec!["cliente@example.com".into()], subject: SUBJECT.into(), text: TEXT.into(), ..Message::default() };

    // STARTTLS: aiosmtpd refuses mail until the connection is upgraded.
    let sink = SmtpSink::start(&["--tlscert", &cert, "--tlskey", &key]);
    let cfg = MailConfig::parse(&sink.url("smtp", "?tls=starttls"), FROM).expect("config");
    assert_eq!(cfg.security, Security::StartTls);
    let untrusted = Mailer::new(cfg.clone()).expect("mailer").send(&msg).await;
    assert!(matches!(&untrusted, Err(MailError::Send(e)) if e.contains("certificate")), "an unknown CA must be refused: {untrusted:?}");
    let cfg = cfg.with_root_certificate(&ca_pem).expect("CA");
    Mailer::new(cfg.clone()).expect("mailer").send(&msg).await.expect("sent over STARTTLS");
    assert_eq!(sink.received().len(), 1);
    assert_eq!(read_message(&sink.received()[0])["subject"], SUBJECT);
    // A login the server refuses (aiosmtpd has no user database) is a permanent error,
    // never a silent unauthenticated send.
    let login_url = format!("smtp://ventas:secreto@127.0.0.1:{}?tls=starttls", sink.port);
    let cfg = MailConfig::parse(&login_url, FROM).expect("config").with_root_certificate(&ca_pem).expect("CA");
    let refused = Mailer::new(cfg).expect("mailer").send(&msg).await;
    assert!(matches!(refused, Err(MailError::Rejected(_))), "aiosmtpd accepts no login: {refused:?}");
    assert_eq!(sink.received().len(), 1);
    drop(sink);

    // Implicit TLS (smtps).
    let sink = SmtpSink::start(&["--smtpscert", &cert, "--smtpskey", &key]);
    let cfg = MailConfig::parse(&sink.url("smtps", ""), FROM).expect("config").with_root_certificate(&ca_pem).expect("CA");
    assert_eq!(cfg.security, Security::ImplicitTls);
    Mailer::new(cfg).expect("mailer").send(&msg).await.expect("sent over implicit TLS");
    assert_eq!(sink.received().len(), 1);
    // lettre ends a single-part body with two extra (invisible) blank lines.
    assert_eq!(read_message(&sink.received()[0])["text"].as_str().map(str::trim_end), Some(TEXT.trim_end()));
}

#[test]
fn mail_urls_are_parsed() {
    let c = MailConfig::parse("smtp://127.0.0.1:2525", FROM).expect("plain");
    assert_eq!((c.host.as_str(), c.port, c.security, c.login.is_none()), ("127.0.0.1", 2525, Security::Plain, true));
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert_eq!(c.from.email.to_string(), "ventas@ferreteria-nandu.com.ar");
    assert_eq!(c.from.name.as_deref(), Some("Ferretería Ñandú"));
    assert_eq!(c.clone().with_timeout(Duration::from_secs(5)).timeout, Duration::from_secs(5));

    let c = MailConfig::parse("smtp://relay", FROM).expect("plain, default port");
    assert_eq!((c.host.as_str(), c.port, c.security), ("relay", 25, Security::Plain));
    let c = MailConfig::parse("smtp://mail.example.com?tls=starttls", FROM).expect("starttls");
    assert_eq!((c.host.as_str(), c.port, c.security), ("mail.example.com", 587, Security::StartTls));
    let c = MailConfig::parse("smtp://mail.example.com:2587/?tls=STARTTLS", FROM).expect("starttls, port");
    assert_eq!((c.port, c.security), (2587, Security::StartTls));
    let c = MailConfig::parse(" SMTPS://Mail.Example.COM ", FROM).expect("smtps");
    assert_eq!((c.host.as_str(), c.port, c.security), ("mail.example.com", 465, Security::ImplicitTls));
    let c = MailConfig::parse("smtps://mail.example.com:1465", FROM).expect("smtps, port");
    assert_eq!(c.port, 1465);
    let c = MailConfig::parse("smtp://[::1]:2525", FROM).expect("ipv6");
    assert_eq!((c.host.as_str(), c.port), ("::1", 2525));

    let c = MailConfig::parse("smtps://ventas%40ferreteria.com.ar:p%40ss%3Aw%25rd%C3%B1@mail.example.com", FROM).expect("login");
    let login = c.login.clone().expect("login");
    assert_eq!(login.user, "ventas@ferreteria.com.ar");
    assert_eq!(login.password, "p@ss:w%rdñ");
    let c = MailConfig::parse("smtps://ventas:p@ss@mail.example.com", FROM).expect("unencoded @ in the password");
    assert_eq!(c.login.map(|l| l.password).as_deref(), Some("p@ss"));
    // A login over plain SMTP is fine on loopback (a local relay), refused over the network.
    assert!(MailConfig::parse("smtp://u:pw@127.0.0.1:2525", FROM).is_ok());
    assert!(matches!(MailConfig::parse("smtp://u:pw@mail.example.com", FROM), Err(MailError::BadConfig(_))));
}

#[test]
fn the_password_is_never_shown() {
    let c = MailConfig::parse("smtps://ventas:s%C3%BAper-secreto@mail.example.com", FROM).expect("login");
    let shown = format!("{c:?} {c:#?} {:?}", Mailer::new(c.clone()).expect("mailer"));
    assert!(!shown.contains("súper-secreto") && !shown.contains("s%C3%BAper"), "{shown}");
    assert!(shown.contains("ventas"), "the user name helps and is shown: {shown}");

    let err = MailConfig::parse("smtp://ventas:s%C3%BAper-secreto@mail.example.com/x", FROM).expect_err("path");
    assert!(!err.to_string().contains("secreto"), "{err}");
}

#[test]
fn garbage_mail_urls_are_refused() {
    for url in [
        "",
        "mail.example.com",
        "http://mail.example.com",
        "smtp://",
        "smtp://:25",
        "smtp://mail.example.com:puerto",
        "smtp://mail.example.com:0",
        "smtp://mail.example.com:70000",
        "smtp://mail example.com",
        "smtp://mail.example.com/bandeja",
        "smtp://mail.example.com#x",
        "smtp://mail.example.com?tls=maybe",
        "smtp://mail.example.com?ssl=1",
        "smtps://mail.example.com?tls=starttls",
        "smtp://[::1",
        "smtp://[no-es-ipv6]:25",
        "smtps://:pw@mail.example.com",
        "smtps://u:p%zz@mail.example.com",
        "smtps://u:p%4@mail.example.com",
        "smtps://u:%FF@mail.example.com",
    ] {
        assert!(matches!(MailConfig::parse(url, FROM), Err(MailError::BadConfig(_))), "{url:?} should be refused");
    }
    let c = MailConfig::parse("smtps://mail.example.com", FROM).expect("config");
    assert!(matches!(c.clone().with_root_certificate(b"no es un certificado"), Err(MailError::BadConfig(_))));
}
