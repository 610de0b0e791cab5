//! The `tendero` command as an administrator uses it (SQLite data directory): users,
//! tokens, demo data, audit verification catching a tampered row, online backup while the
//! server runs, graceful stop on SIGTERM, restore.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tendero");

fn tendero(data: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).arg("--data-dir").arg(data).args(args).env_remove("TENDERO_DATABASE_URL").output().expect("run tendero");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn add_user(data: &std::path::Path, name: &str, role: &str, password: &str) -> (i32, String) {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["user", "add", name, "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Some file that is certainly not a spreadsheet: the test binary itself.
fn tendero_bin_as_garbage() -> String {
    BIN.to_string()
}

#[tokio::test]
async fn an_administrator_runs_tendero_from_the_command_line() {
    let dir = app::testkit::TempDir::new("tendero-cli");
    let data = dir.0.join("data");

    let (code, out, _) = tendero(&data, &["migrate"]);
    assert_eq!(code, 0);
    assert!(out.contains("up to date"));
    assert_eq!(add_user(&data, "jefa", "manager", "una-clave-larga-4").0, 0);
    let (code, msg) = add_user(&data, "otro", "jefe", "una-clave-larga-4");
    assert_eq!(code, 2, "{msg}");
    assert!(msg.contains("role"));
    let (code, msg) = add_user(&data, "corto", "manager", "corta");
    assert_eq!(code, 2, "{msg}");
    let (_, users, _) = tendero(&data, &["user", "list"]);
    assert!(users.contains("jefa\tmanager\tactive"), "{users}");

    let (code, token, _) = tendero(&data, &["token", "new", "--user", "jefa"]);
    assert_eq!(code, 0);
    let token = token.trim().to_string();
    assert!(token.starts_with("tdr_") && token.len() > 40);
    let (_, list, _) = tendero(&data, &["token", "list"]);
    assert!(list.contains(&token[..12]) && !list.contains(&token), "only the prefix is listed: {list}");

    let (code, out, _) = tendero(&data, &["demo"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = tendero(&data, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"));

    // Export, then import the same file: nothing changes; a bad row stops the whole file.
    let csv = dir.0.join("clientes.csv");
    let (code, _, err) = tendero(&data, &["export", "customers", "--format", "csv", "-o", csv.to_str().expect("path")]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = tendero(&data, &["import", "customers", csv.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("30 rows: 0 created, 0 updated, 30 unchanged"), "{out}");
    let bad = dir.0.join("nuevos.csv");
    std::fs::write(&bad, "nombre;cuit\nKiosco Sol;30-70707070-2\nMal;20-12345678-0\n").expect("write");
    let (code, out, err) = tendero(&data, &["import", "customers", bad.to_str().expect("path")]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("NOTHING stored") && err.contains("row 2 tax_id"), "{out}{err}");
    let (code, out, _) = tendero(&data, &["import", "customers", bad.to_str().expect("path"), "--skip-bad-rows"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("1 created") && out.contains("stored"), "{out}");
    let (code, _, err) = tendero(&data, &["import", "products", tendero_bin_as_garbage().as_str()]);
    assert_eq!(code, 2, "{err}");

    // The server runs; an online backup is taken meanwhile; SIGTERM stops it cleanly.
    let mut server = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(server.stderr.take().expect("stderr")).lines();
    let mut base = String::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(rest) = line.strip_prefix("Tendero listening on ") {
            base = rest.trim().to_string();
            break;
        }
    }
    assert!(base.starts_with("http://127.0.0.1:"), "no address printed");
    std::thread::spawn(move || for _ in lines {});
    let client = reqwest::Client::new();
    let res = client.get(format!("{base}/api/v1/customers?q=tornillo")).bearer_auth(&token).send().await.expect("api");
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["items"][0]["name"], "Ferretería El Tornillo");

    let backup = dir.0.join("copia.db");
    let (code, out, err) = tendero(&data, &["backup", backup.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(backup.is_file());
    let (code, _, err) = tendero(&data, &["restore", backup.to_str().expect("path")]);
    assert_ne!(code, 0, "restore must refuse while the server runs");
    assert!(err.contains("stop the server"), "{err}");

    let started = Instant::now();
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let status = loop {
        if let Some(s) = server.try_wait().expect("wait") {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");

    // Changes after the backup are undone by restoring it.
    assert_eq!(add_user(&data, "despues", "marketing", "una-clave-larga-5").0, 0);
    let (code, out, err) = tendero(&data, &["restore", backup.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("intact"), "{out}");
    let (_, users, _) = tendero(&data, &["user", "list"]);
    assert!(users.contains("jefa") && !users.contains("despues"), "{users}");
    let not_a_db = dir.0.join("nada.db");
    std::fs::write(&not_a_db, b"esto no es una base de datos").expect("write");
    let (code, _, err) = tendero(&data, &["restore", not_a_db.to_str().expect("path")]);
    assert_ne!(code, 0);
    assert!(!err.is_empty());

    // Someone edits an audit row behind Tendero's back: verify names that entry.
    let url = format!("sqlite://{}", data.join("tendero.db").display());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.expect("open");
    sqlx::query("UPDATE audit_log SET actor_name = 'otra persona' WHERE seq = 7").execute(&pool).await.expect("tamper");
    pool.close().await;
    let (code, out, _) = tendero(&data, &["audit", "verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TAMPERED at entry 7"), "{out}");
}

#[test]
fn analytics_clv_reproduces_the_cdnow_reference() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cdnow");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shared.join("reference.json")).expect("reference.json")).expect("json");
    let out = Command::new(BIN)
        .args(["analytics", "clv", "--transactions"])
        .arg(shared.join("transactions.csv"))
        .args(["--calibration-end", "1997-09-30", "--format", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let close = |got: &serde_json::Value, want: f64, rel: f64| {
        let got = got.as_f64().unwrap_or(f64::NAN);
        assert!(((got - want) / want).abs() < rel, "{got} vs {want}");
    };
    close(&report["bgnbd"]["r"], 0.242595, 1e-3);
    close(&report["bgnbd"]["alpha"], 4.413603, 1e-3);
    close(&report["bgnbd"]["a"], 0.792922, 1e-3);
    close(&report["bgnbd"]["b"], 2.425906, 1e-3);
    assert!((report["bgnbd"]["log_likelihood"].as_f64().unwrap_or(0.0) + 9582.4292).abs() < 1e-3);
    close(&report["gamma_gamma"]["p"], 6.249572, 1e-3);
    assert_eq!(report["customers"].as_array().map(Vec::len), Some(2357));
    let c1 = report["customers"].as_array().and_then(|c| c.iter().find(|c| c["customer_id"] == "1")).cloned().unwrap_or_default();
    close(&c1["clv"], 36.274, 1e-3);
    assert!(reference.is_object());

    // A broken file gets the row that is wrong, not a panic.
    let dir = app::testkit::TempDir::new("tendero-clv");
    let bad = dir.0.join("bad.csv");
    std::fs::write(&bad, "customer_id,date,amount\n1,1997-01-01,10.00\n2,1997-13-01,5.00\n").expect("write");
    let out = Command::new(BIN)
        .args(["analytics", "clv", "--transactions"])
        .arg(&bad)
        .args(["--calibration-end", "1997-09-30"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2"), "{err}");
}
