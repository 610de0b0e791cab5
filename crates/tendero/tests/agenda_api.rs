//! The agenda, phone memos and directory over the REST API, on SQLite and PostgreSQL:
//! activities planned, listed by range and marked done (a done call lands on the
//! customer's timeline); the private calendar feed a calendar program reads; reminders in
//! the application and by e-mail, once; phone memos delivered in the application, by
//! e-mail and on the caller's timeline; the directory filtered to what the reader may see.

mod common;

use app::testkit::{databases, have_aiosmtpd, runs, SmtpSink};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().map(|a| a.iter().map(id).collect()).unwrap_or_default()
}

fn rfc(t: OffsetDateTime) -> String {
    app::clock::text(t)
}

fn now() -> OffsetDateTime {
    app::clock::now()
}

async fn customer(s: &common::Server, name: &str, phone: &str) -> String {
    let (st, c) = s.post("/api/v1/customers", json!({"name": name, "phone": phone})).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    id(&c)
}

async fn user_id(s: &common::Server, username: &str) -> String {
    let (_, users) = s.get("/api/v1/users").await;
    users["items"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["username"] == username))
        .map(id)
        .unwrap_or_else(|| panic!("no user {username} in {users}"))
}

#[tokio::test]
async fn activities_are_planned_listed_by_range_and_done_calls_reach_the_timeline() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let c = customer(&s, "Ferretería Ñandú", "+54 11 4555-1234").await;
        let front = s.token_for("front_office").await;
        let front_id = user_id(&s, "user-front_office").await;

        // Tomorrow at 10:00 in Buenos Aires is 13:00 UTC.
        let tomorrow = (now() + Duration::days(1)).date();
        let at = |h: u8, m: u8| format!("{tomorrow}T{h:02}:{m:02}:00-03:00");
        let (st, call) = s
            .post(
                "/api/v1/activities",
                json!({"kind": "call", "subject": "Llamar por el pedido", "customer_id": c, "starts_at": at(10, 0),
                       "duration_minutes": 30, "reminder_minutes_before": 15}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {call}");
        assert_eq!(call["starts_at"], format!("{tomorrow}T13:00:00.000000Z"), "{label}: stored in UTC");
        assert_eq!(call["ends_at"], format!("{tomorrow}T13:30:00.000000Z"), "{label}");
        assert_eq!(call["remind_at"], format!("{tomorrow}T12:45:00.000000Z"), "{label}");
        assert_eq!((call["owner_name"].as_str(), call["customer_name"].as_str()), (Some("admin"), Some("Ferretería Ñandú")), "{label}");
        assert_eq!(call["done"], false, "{label}");
        let (st, task) =
            s.post("/api/v1/activities", json!({"kind": "task", "subject": "Preparar presupuesto", "starts_at": at(9, 0)})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: a task needs no duration: {task}");
        assert!(task["duration_minutes"].is_null(), "{label}: {task}");
        let (st, theirs) = s
            .post(
                "/api/v1/activities",
                json!({"kind": "meeting", "subject": "Visita al cliente", "customer_id": c, "starts_at": at(15, 0),
                       "ends_at": at(16, 30), "owner_id": "user-front_office"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {theirs}");
        assert_eq!((theirs["owner_id"].as_str(), theirs["duration_minutes"].as_i64()), (Some(front_id.as_str()), Some(90)), "{label}");
        // Yesterday 23:30 to today 00:30 (UTC) overlaps today.
        let today = now().date();
        let (st, late) = s
            .post(
                "/api/v1/activities",
                json!({"kind": "call", "subject": "Llamada nocturna", "starts_at": format!("{}T23:30:00Z", today - Duration::days(1)),
                       "duration_minutes": 60}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {late}");

        // Range queries: mine by default, earliest first; everyone's; one user's; a customer's.
        let range = format!("from={today}&to={}", today + Duration::days(3));
        let (st, mine) = s.get(&format!("/api/v1/activities?{range}")).await;
        assert_eq!(st, StatusCode::OK, "{label}: {mine}");
        assert_eq!(ids(&mine), vec![id(&late), id(&task), id(&call)], "{label}: mine, earliest first, the overlap included");
        let (_, all) = s.get(&format!("/api/v1/activities?{range}&owner=all")).await;
        assert_eq!(ids(&all).len(), 4, "{label}: {all}");
        let (_, front_list) = s.get(&format!("/api/v1/activities?{range}&owner={front_id}")).await;
        assert_eq!(ids(&front_list), vec![id(&theirs)], "{label}");
        let (_, front_me) = s.call_as(&front, Method::GET, &format!("/api/v1/activities?{range}&owner=me"), None).await;
        assert_eq!(ids(&front_me), vec![id(&theirs)], "{label}: me is the token's user");
        let (_, of_customer) = s.get(&format!("/api/v1/activities?{range}&customer_id={c}")).await;
        assert_eq!(ids(&of_customer), vec![id(&call), id(&theirs)], "{label}: a customer's, whoever's");
        let (_, later) = s.get(&format!("/api/v1/activities?from={}&to={}", today + Duration::days(5), today + Duration::days(6))).await;
        assert_eq!(later["items"], json!([]), "{label}");
        let (_, two) = s.get(&format!("/api/v1/activities?{range}&limit=2")).await;
        let cursor = two["next_cursor"].as_str().unwrap_or_default().to_string();
        let (_, rest) = s.get(&format!("/api/v1/activities?{range}&limit=2&cursor={cursor}")).await;
        assert_eq!([ids(&two), ids(&rest)].concat(), ids(&mine), "{label}: pages follow on");

        // Bad input: the field is named, nothing is stored.
        let base = json!({"kind": "call", "subject": "x", "customer_id": c, "starts_at": at(11, 0), "duration_minutes": 10});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        for (body, field) in [
            (with("ends_at", json!(at(10, 0))), "ends_at"),
            (json!({"kind": "call", "subject": "x", "starts_at": at(11, 0), "ends_at": at(10, 0)}), "ends_at"),
            (with("duration_minutes", json!(-5)), "duration_minutes"),
            (with("duration_minutes", json!(1441)), "duration_minutes"),
            (with("duration_minutes", Value::Null), "duration_minutes"),
            (with("customer_id", json!("0192f000-0000-7000-8000-00000000dead")), "customer_id"),
            (with("customer_id", json!("no-soy-un-id")), "customer_id"),
            (with("owner_id", json!("nadie")), "owner_id"),
            (with("kind", json!("siesta")), "kind"),
            (with("subject", json!("  ")), "subject"),
            (with("starts_at", json!("mañana")), "starts_at"),
            (with("starts_at", Value::Null), "starts_at"),
            (with("starts_at", json!("9999-12-31T23:59:00Z")), "starts_at"),
            (with("reminder_minutes_before", json!(-1)), "reminder_minutes_before"),
        ] {
            let (st, err) = s.post("/api/v1/activities", body.clone()).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body} → {err}");
            let message = err["error"]["fields"][field].as_str().unwrap_or_default();
            assert!(message.contains(' '), "{label}: {field} named in {err}, with a translated message");
        }
        let (_, after) = s.get(&format!("/api/v1/activities?{range}&owner=all")).await;
        assert_eq!(ids(&after), ids(&all), "{label}: nothing was stored");
        for (query, field) in [
            (format!("{range}&owner=nadie"), "owner"),
            (format!("from={today}&to={today}"), "to"),
            (format!("from={today}&to={}", today + Duration::days(500)), "to"),
            (format!("{range}&done=quizas"), "done"),
            (format!("{range}&customer_id=basura"), "customer_id"),
            ("from=ayer".to_string(), "from"),
            ("from=9999-12-31".to_string(), "from"),
        ] {
            let (st, err) = s.get(&format!("/api/v1/activities?{query}")).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {query} → {err}");
            assert!(err["error"]["fields"][field].is_string(), "{label}: {field} named in {err}");
        }

        // Changes: absent fields stay; a stale version is refused.
        let (st, moved) = s.patch(&format!("/api/v1/activities/{}", id(&call)), json!({"starts_at": at(11, 0), "version": 1})).await;
        assert_eq!(st, StatusCode::OK, "{label}: {moved}");
        assert_eq!(
            (moved["ends_at"].as_str(), moved["version"].as_i64()),
            (Some(format!("{tomorrow}T14:30:00.000000Z").as_str()), Some(2))
        );
        assert_eq!(moved["subject"], "Llamar por el pedido", "{label}");
        let (st, _) = s.patch(&format!("/api/v1/activities/{}", id(&call)), json!({"subject": "otro", "version": 1})).await;
        assert_eq!(st, StatusCode::CONFLICT, "{label}");
        let (st, err) = s.patch(&format!("/api/v1/activities/{}", id(&call)), json!({"ends_at": at(9, 0)})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {err}");
        let (st, _) = s.get("/api/v1/activities/0192f000-0000-7000-8000-00000000dead").await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{label}");

        // Done: the call is on the customer's timeline; undone, it leaves it.
        let (st, done) = s.post(&format!("/api/v1/activities/{}/done", id(&call)), json!({})).await;
        assert_eq!(st, StatusCode::OK, "{label}: {done}");
        assert_eq!((done["done"].as_bool(), done["done_by"].as_str()), (Some(true), Some("admin")), "{label}");
        let interaction = done["interaction_id"].as_str().unwrap_or_default().to_string();
        let (_, timeline) = s.get(&format!("/api/v1/customers/{c}/timeline?sources=interaction")).await;
        assert_eq!(ids(&timeline), vec![interaction.clone()], "{label}: {timeline}");
        assert_eq!(
            (timeline["items"][0]["kind"].as_str(), timeline["items"][0]["subject"].as_str(), timeline["items"][0]["channel"].as_str()),
            (Some("call"), Some("Llamar por el pedido"), Some("phone")),
            "{label}"
        );
        let (_, again) = s.post(&format!("/api/v1/activities/{}/done", id(&call)), json!({})).await;
        assert_eq!(again["interaction_id"], done["interaction_id"], "{label}: done twice is done once");
        let (_, pending) = s.get(&format!("/api/v1/activities?{range}&done=false")).await;
        assert!(!ids(&pending).contains(&id(&call)), "{label}");
        let (st, undone) = s.post(&format!("/api/v1/activities/{}/undone", id(&call)), json!({})).await;
        assert_eq!(st, StatusCode::OK, "{label}: {undone}");
        assert!(undone["interaction_id"].is_null() && undone["done_at"].is_null(), "{label}: {undone}");
        let (_, timeline) = s.get(&format!("/api/v1/customers/{c}/timeline?sources=interaction")).await;
        assert_eq!(timeline["items"], json!([]), "{label}: undone leaves the timeline");
        let (_, task_done) = s.post(&format!("/api/v1/activities/{}/done", id(&task)), json!({})).await;
        assert!(task_done["done"] == true && task_done["interaction_id"].is_null(), "{label}: a task is not an interaction");

        // Who may: the warehouse has no agenda; the audit trail has each change.
        let warehouse = s.token_for("warehouse").await;
        let (st, _) = s.call_as(&warehouse, Method::GET, "/api/v1/activities", None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        let (st, _) = s.call_as(&warehouse, Method::POST, "/api/v1/activities", Some(base.clone())).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        let actions: Vec<String> =
            sqlx::query_scalar("SELECT action FROM audit_log WHERE entity = 'activity' AND entity_id = $1 ORDER BY seq")
                .bind(id(&call))
                .fetch_all(&mut *s.db.app.db.reader().await.expect("reader"))
                .await
                .expect("audit");
        assert_eq!(actions, ["create", "update", "done", "undone"], "{label}");
        s.db.cleanup().await;
    }
}

/// The lines of an iCalendar text, unfolded.
fn unfold(text: &str) -> Vec<String> {
    text.replace("\r\n ", "").split("\r\n").filter(|l| !l.is_empty()).map(str::to_string).collect()
}

#[tokio::test]
async fn the_calendar_feed_is_private_and_calendar_programs_read_it() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let c = customer(&s, "Corralón San Martín, S.A.", "+54 11 4753-2200").await;
        let (st, me) = s.get("/api/v1/users/me").await;
        assert_eq!(st, StatusCode::OK, "{label}: {me}");
        assert_eq!((me["username"].as_str(), me["role"].as_str()), (Some("admin"), Some("administrator")), "{label}");
        let url = me["calendar_feed_url"].as_str().unwrap_or_default().to_string();
        assert!(url.starts_with(&format!("{}/api/v1/calendar/", s.base)) && url.ends_with(".ics"), "{label}: {me}");
        let (_, me_again) = s.get("/api/v1/users/me").await;
        assert!(me_again["calendar_feed_url"].is_null(), "{label}: shown once: {me_again}");
        assert_eq!(me_again["calendar_feed_created_at"], me["calendar_feed_created_at"], "{label}");

        let soon = now() + Duration::hours(3);
        let notes = "Llevar el catálogo nuevo; confirmar precios, plazos y el descuento por volumen \\ pago a 30 días.\nSegunda línea con ñandúes y acentos: áéíóú.";
        let (_, meeting) = s
            .post(
                "/api/v1/activities",
                json!({"kind": "meeting", "subject": "Visita: catálogo, precios; descuento", "customer_id": c, "starts_at": rfc(soon),
                       "duration_minutes": 45, "reminder_minutes_before": 15, "notes": notes}),
            )
            .await;
        let (_, task) = s
            .post("/api/v1/activities", json!({"kind": "task", "subject": "Enviar lista", "starts_at": rfc(now() - Duration::days(2))}))
            .await;
        s.post(&format!("/api/v1/activities/{}/done", id(&task)), json!({})).await;
        let (_, old) = s
            .post("/api/v1/activities", json!({"kind": "task", "subject": "Hace mucho", "starts_at": rfc(now() - Duration::days(40))}))
            .await;
        assert!(!id(&old).is_empty(), "{label}: {old}");
        let other = s.token_for("salesperson").await;
        s.call_as(&other, Method::POST, "/api/v1/activities", Some(json!({"kind": "task", "subject": "Ajena", "starts_at": rfc(soon)})))
            .await;

        // No token needed: the address is the key.
        let res = reqwest::get(&url).await.expect("feed");
        assert_eq!(res.status(), StatusCode::OK, "{label}");
        assert!(res.headers()["content-type"].to_str().unwrap_or("").starts_with("text/calendar"), "{label}");
        let text = res.text().await.expect("text");
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") && text.ends_with("END:VCALENDAR\r\n"), "{label}: {text}");
        for raw in text.split("\r\n") {
            assert!(raw.len() <= 75, "{label}: a line longer than 75 octets: {raw:?}");
            assert!(!raw.contains('\n') && !raw.contains('\r'), "{label}: a bare line break");
        }
        let lines = unfold(&text);
        let count = |p: &str| lines.iter().filter(|l| l.starts_with(p)).count();
        assert_eq!(count("BEGIN:VEVENT"), 2, "{label}: mine from 30 days ago on: {text}");
        assert!(lines.contains(&format!("UID:{}@tendero", id(&meeting))), "{label}");
        assert!(lines.contains(&"SUMMARY:Visita: catálogo\\, precios\\; descuento".to_string()), "{label}: {text}");
        assert!(lines.contains(&"SUMMARY:✓ Enviar lista".to_string()), "{label}: done is marked: {text}");
        let description = lines.iter().find(|l| l.starts_with("DESCRIPTION:Corral")).cloned().unwrap_or_default();
        assert!(description.starts_with("DESCRIPTION:Corralón San Martín\\, S.A.\\n\\nLlevar"), "{label}: {description}");
        assert!(description.contains("\\\\ pago") && description.contains("días.\\nSegunda"), "{label}: {description}");
        let start = soon.to_offset(time::UtcOffset::UTC);
        let stamp = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            start.year(),
            u8::from(start.month()),
            start.day(),
            start.hour(),
            start.minute(),
            start.second()
        );
        assert!(lines.contains(&format!("DTSTART:{stamp}")), "{label}: {stamp} in {text}");
        assert_eq!(count("BEGIN:VALARM"), 1, "{label}");
        assert!(lines.contains(&"TRIGGER:-PT15M".to_string()), "{label}");
        assert!(!text.contains("Ajena") && !text.contains("Hace mucho"), "{label}");
        let again = reqwest::get(&url).await.expect("feed").text().await.expect("text");
        assert_eq!(again, text, "{label}: stable while nothing changes (UIDs and all)");

        // Python's icalendar package reads it and finds the events (when it is installed).
        if runs("python3", &["-c", "import icalendar"]) {
            let path = std::env::temp_dir().join(format!("tendero-feed-{}.ics", app::new_id()));
            std::fs::write(&path, &text).expect("write feed");
            let script = "import icalendar, sys, json\n\
                          cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())\n\
                          out = [{'uid': str(e['UID']), 'summary': str(e['SUMMARY']), 'start': e.decoded('DTSTART').isoformat(),\n\
                          'description': str(e.get('DESCRIPTION', '')), 'alarms': len(e.subcomponents)} for e in cal.walk('VEVENT')]\n\
                          print(json.dumps(out))";
            let out = std::process::Command::new("python3").args(["-c", script]).arg(&path).output().expect("python3");
            let _ = std::fs::remove_file(&path);
            assert!(out.status.success(), "{label}: icalendar refused the feed: {}", String::from_utf8_lossy(&out.stderr));
            let events: Value = serde_json::from_slice(&out.stdout).expect("json");
            let visit = events.as_array().and_then(|a| a.iter().find(|e| e["uid"] == format!("{}@tendero", id(&meeting)))).cloned();
            let visit = visit.unwrap_or_else(|| panic!("{label}: the meeting is not in {events}"));
            assert_eq!(visit["summary"], "Visita: catálogo, precios; descuento", "{label}");
            assert_eq!(
                visit["start"],
                format!(
                    "{}+00:00",
                    start
                        .replace_nanosecond(0)
                        .map(|t| format!(
                            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                            t.year(),
                            u8::from(t.month()),
                            t.day(),
                            t.hour(),
                            t.minute(),
                            t.second()
                        ))
                        .unwrap_or_default()
                ),
                "{label}"
            );
            assert!(visit["description"].as_str().unwrap_or("").starts_with("Corralón San Martín, S.A.\n\nLlevar"), "{label}: {visit}");
            assert!(visit["description"].as_str().unwrap_or("").contains("\\ pago a 30 días.\nSegunda línea"), "{label}: {visit}");
            assert_eq!(visit["alarms"], 1, "{label}");
        } else {
            eprintln!("python3 icalendar not installed: only the structural checks ran");
        }

        // A new address ends the old one; unknown addresses are not found.
        let (st, fresh) = s.post("/api/v1/users/me/calendar-feed", json!({})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {fresh}");
        let new_url = fresh["calendar_feed_url"].as_str().unwrap_or_default().to_string();
        assert_ne!(new_url, url, "{label}");
        assert_eq!(reqwest::get(&url).await.expect("old").status(), StatusCode::NOT_FOUND, "{label}: the old address is dead");
        assert_eq!(reqwest::get(&new_url).await.expect("new").status(), StatusCode::OK, "{label}");
        for bad in ["/api/v1/calendar/nada.ics", "/api/v1/calendar/nada", "/api/v1/calendar/.ics"] {
            let res = reqwest::get(format!("{}{bad}", s.base)).await.expect("get");
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{label}: {bad}");
        }
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn phone_memos_reach_their_recipient_and_the_callers_timeline() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let c = customer(&s, "Sanitarios Núñez", "+54 11 4701-5500").await;
        let (_, contact) = s.post("/api/v1/contacts", json!({"party_id": c, "name": "Marta Gómez", "mobile": "+54 9 11 5555-0101"})).await;
        let contact = id(&contact);
        let front = s.token_for("front_office").await;

        // Taken by the front office for the administrator; the caller's mobile is known
        // (given without the country code).
        let (st, memo) = s
            .call_as(
                &front,
                Method::POST,
                "/api/v1/memos",
                Some(json!({"for_user": "admin", "caller": "Marta Gómez", "company": "Sanitarios Núñez", "phone": "11 5555-0101",
                            "message": "Que la llamen por la factura 0001-00000042.", "urgency": "high", "agreed": "call_back"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {memo}");
        assert_eq!((memo["contact_id"].as_str(), memo["customer_id"].as_str()), (Some(contact.as_str()), Some(c.as_str())), "{label}");
        assert_eq!((memo["taken_by"].as_str(), memo["read"].as_bool()), (Some("user-front_office"), Some(false)), "{label}");
        assert!(memo["taken_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{label}: taken now: {memo}");
        let (_, timeline) = s.get(&format!("/api/v1/customers/{c}/timeline")).await;
        let first = &timeline["items"][0];
        assert_eq!(
            (first["id"].as_str(), first["kind"].as_str(), first["direction"].as_str(), first["who"].as_str()),
            (memo["interaction_id"].as_str(), Some("call"), Some("in"), Some("user-front_office")),
            "{label}: {timeline}"
        );
        // An unknown caller is only a memo.
        let (st, stranger) = s
            .call_as(
                &front,
                Method::POST,
                "/api/v1/memos",
                Some(json!({"for_user": "admin", "caller": "Alguien", "phone": "+54 11 4000-0000"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {stranger}");
        assert!(stranger["interaction_id"].is_null() && stranger["urgency"] == "normal", "{label}: {stranger}");

        // Bad input: the field named, nothing stored.
        let archived = s.token_for("billing").await;
        let billing_id = user_id(&s, "user-billing").await;
        let (st, _) = s.patch(&format!("/api/v1/users/{billing_id}"), json!({"active": false})).await;
        assert_eq!(st, StatusCode::OK, "{label}");
        let (st, _) = s.call_as(&archived, Method::GET, "/api/v1/memos", None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{label}: the archived user is out");
        for (body, field) in [
            (json!({"for_user": "user-billing", "caller": "X"}), "for_user"),
            (json!({"for_user": billing_id, "caller": "X"}), "for_user"),
            (json!({"for_user": "nadie", "caller": "X"}), "for_user"),
            (json!({"caller": "X"}), "for_user"),
            (json!({"for_user": "admin", "caller": " "}), "caller"),
            (json!({"for_user": "admin", "caller": "X", "urgency": "ya"}), "urgency"),
            (json!({"for_user": "admin", "caller": "X", "agreed": "nada"}), "agreed"),
            (json!({"for_user": "admin", "caller": "X", "phone": "llamame"}), "phone"),
            (json!({"for_user": "admin", "caller": "X", "contact_id": "0192f000-0000-7000-8000-00000000dead"}), "contact_id"),
        ] {
            let (st, err) = s.call_as(&front, Method::POST, "/api/v1/memos", Some(body.clone())).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body} → {err}");
            let message = err["error"]["fields"][field].as_str().unwrap_or_default();
            assert!(message.contains(' '), "{label}: {field} named in {err}, with a translated message");
        }

        // Delivered in the application: unread first, newest first; read once.
        let (st, unread) = s.get("/api/v1/memos?for=me&unread=true").await;
        assert_eq!(st, StatusCode::OK, "{label}: {unread}");
        assert_eq!(ids(&unread), vec![id(&stranger), id(&memo)], "{label}: nothing of the refused ones");
        let (_, me) = s.get("/api/v1/users/me").await;
        assert_eq!(me["unread_memos"], 2, "{label}: {me}");
        let (st, _) = s.call_as(&front, Method::POST, &format!("/api/v1/memos/{}/read", id(&memo)), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}: only the recipient marks it read");
        let (st, read) = s.post(&format!("/api/v1/memos/{}/read", id(&memo)), json!({})).await;
        assert_eq!(st, StatusCode::OK, "{label}: {read}");
        assert!(read["read"] == true && read["read_at"].is_string(), "{label}: {read}");
        let (_, unread) = s.get("/api/v1/memos?unread=true").await;
        assert_eq!(ids(&unread), vec![id(&stranger)], "{label}");
        let (_, all) = s.get("/api/v1/memos").await;
        assert_eq!(ids(&all).len(), 2, "{label}");
        let (_, theirs) = s.call_as(&front, Method::GET, "/api/v1/memos?for=me", None).await;
        assert_eq!(theirs["items"], json!([]), "{label}: the taker's own memos are others'");
        let (st, _) = s.get("/api/v1/memos?for=nadie").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        let warehouse = s.token_for("warehouse").await;
        let (st, _) = s.call_as(&warehouse, Method::GET, "/api/v1/memos?for=admin", None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}: someone else's memos");
        let (st, _) = s.call_as(&warehouse, Method::GET, "/api/v1/memos?for=me", None).await;
        assert_eq!(st, StatusCode::OK, "{label}: everyone reads their own");
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn memos_and_reminders_are_mailed_once() {
    if !have_aiosmtpd() {
        return;
    }
    for db in databases().await {
        let label = db.label;
        let sink = SmtpSink::start(&[]);
        let cfg = app::mail::MailConfig::parse(&sink.url("smtp", ""), "Tendero <agenda@delplata.com.ar>").expect("config");
        let mailer = app::mail::Mailer::new(cfg).expect("mailer");
        let s = common::spawn_with_mailer(db, Some(mailer.clone())).await;
        let admin = user_id(&s, "admin").await;
        s.patch(&format!("/api/v1/users/{admin}"), json!({"email": "admin@delplata.com.ar"})).await;
        let (_, memo) = s
            .post(
                "/api/v1/memos",
                json!({"for_user": "admin", "caller": "Jorge Benítez", "phone": "+54 11 4241-1919", "message": "Llamar hoy."}),
            )
            .await;
        assert!(memo["emailed_at"].is_string() && memo["delivery_error"].is_null(), "{label}: {memo}");
        assert_eq!(sink.received().len(), 1, "{label}");
        let mail = std::fs::read_to_string(&sink.received()[0]).expect("mail");
        assert!(
            mail.contains("To: admin@delplata.com.ar") && mail.contains("Fono memo") && mail.contains("Llamar hoy."),
            "{label}: {mail}"
        );

        // A reminder due now (starts in 10 minutes, 15 before), one not due, one done.
        let (_, due) = s
            .post(
                "/api/v1/activities",
                json!({"kind": "call", "subject": "Llamar a Jorge", "starts_at": rfc(now() + Duration::minutes(10)), "duration_minutes": 5,
                       "reminder_minutes_before": 15}),
            )
            .await;
        s.post(
            "/api/v1/activities",
            json!({"kind": "call", "subject": "Más tarde", "starts_at": rfc(now() + Duration::hours(5)), "duration_minutes": 5, "reminder_minutes_before": 15}),
        )
        .await;
        let (_, done) = s
            .post(
                "/api/v1/activities",
                json!({"kind": "task", "subject": "Ya hecha", "starts_at": rfc(now()), "reminder_minutes_before": 5}),
            )
            .await;
        s.post(&format!("/api/v1/activities/{}/done", id(&done)), json!({})).await;
        let (st, reminders) = s.get("/api/v1/activities/due-reminders").await;
        assert_eq!(st, StatusCode::OK, "{label}: {reminders}");
        assert_eq!(ids(&reminders), vec![id(&due)], "{label}: due, not done, not sent");

        // The server's minute job, twice: one mail.
        let state = web::AppState::new(s.db.app.clone(), false).with_mailer(Some(mailer.clone()));
        assert_eq!(web::agenda_api::send_reminders(&state).await.expect("send"), 1, "{label}");
        assert_eq!(web::agenda_api::send_reminders(&state).await.expect("send"), 0, "{label}: once");
        let files = sink.received();
        assert_eq!(files.len(), 2, "{label}");
        let all: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).unwrap_or_default()).collect();
        assert!(all.iter().any(|m| m.contains("Recordatorio") && m.contains("Llamar a Jorge")), "{label}: {all:?}");
        let (_, reminders) = s.get("/api/v1/activities/due-reminders").await;
        assert_eq!(reminders["items"], json!([]), "{label}: sent");
        let (_, sent) = s.get(&format!("/api/v1/activities/{}", id(&due))).await;
        assert!(sent["reminded_at"].is_string(), "{label}: {sent}");

        // Moving it to a new time arms the reminder again.
        s.patch(&format!("/api/v1/activities/{}", id(&due)), json!({"starts_at": rfc(now() + Duration::minutes(5))})).await;
        assert_eq!(web::agenda_api::send_reminders(&state).await.expect("send"), 1, "{label}");

        // Without an address, a reminder stays in the application.
        let front = s.token_for("front_office").await;
        let (_, theirs) = s
            .call_as(
                &front,
                Method::POST,
                "/api/v1/activities",
                Some(json!({"kind": "task", "subject": "Sin correo", "starts_at": rfc(now() + Duration::minutes(1)), "reminder_minutes_before": 5})),
            )
            .await;
        assert_eq!(web::agenda_api::send_reminders(&state).await.expect("send"), 0, "{label}");
        let (_, theirs_due) = s.call_as(&front, Method::GET, "/api/v1/activities/due-reminders", None).await;
        assert_eq!(ids(&theirs_due), vec![id(&theirs)], "{label}");
        assert_eq!(sink.received().len(), 3, "{label}");
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_directory_lists_what_the_reader_may_see() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let c = customer(&s, "Ferretería Ñandú", "+54 11 4555-1234").await;
        let (_, supplier) = s.post("/api/v1/suppliers", json!({"name": "Acindar Distribución", "email": "ventas@acindar.example"})).await;
        let (_, both) = s.post("/api/v1/customers", json!({"name": "Bulonera Ambos", "is_supplier": true})).await;
        let (_, contact) = s
            .post(
                "/api/v1/contacts",
                json!({"party_id": c, "name": "Marta Gómez", "phone": "+54 11 4555-9999", "email": "marta@nandu.example"}),
            )
            .await;
        let (_, seller) = s.post("/api/v1/salespeople", json!({"name": "Roberto Ibáñez", "phone": "+54 11 4383-0001"})).await;
        assert!(!id(&seller).is_empty(), "{label}: {seller}");

        let (st, all) = s.get("/api/v1/directory").await;
        assert_eq!(st, StatusCode::OK, "{label}: {all}");
        let names: Vec<&str> = all["items"].as_array().map(|a| a.iter().filter_map(|e| e["name"].as_str()).collect()).unwrap_or_default();
        assert_eq!(
            names,
            ["Acindar Distribución", "Bulonera Ambos", "Ferretería Ñandú", "Marta Gómez", "Roberto Ibáñez"],
            "{label}: one list by name, a party that is both once"
        );
        let entry = |v: &Value, name: &str| {
            v["items"].as_array().and_then(|a| a.iter().find(|e| e["name"] == name)).cloned().unwrap_or(Value::Null)
        };
        let marta = entry(&all, "Marta Gómez");
        assert_eq!(
            (marta["kind"].as_str(), marta["organisation"].as_str(), marta["id"].as_str()),
            (Some("contact"), Some("Ferretería Ñandú"), Some(id(&contact).as_str())),
            "{label}: {marta}"
        );
        assert_eq!(marta["phones"], json!(["+54 11 4555-9999"]), "{label}");
        assert_eq!(entry(&all, "Acindar Distribución")["kind"], "supplier", "{label}");
        assert_eq!(entry(&all, "Bulonera Ambos")["id"], both["id"], "{label}");
        assert_eq!(entry(&all, "Roberto Ibáñez")["kind"], "employee", "{label}");
        assert_eq!(entry(&all, "Acindar Distribución")["id"], supplier["id"], "{label}");

        // Search like the lists: accents and case aside, phone digits.
        for (q, expected) in [
            ("nandu", vec!["Ferretería Ñandú", "Marta Gómez"]),
            ("GOMEZ", vec!["Marta Gómez"]),
            ("4555", vec!["Ferretería Ñandú", "Marta Gómez"]),
            ("4555-1234", vec!["Ferretería Ñandú"]),
            ("ibanez 4383", vec!["Roberto Ibáñez"]),
            ("zz", vec![]),
        ] {
            let (st, found) = s.get(&format!("/api/v1/directory?q={q}")).await;
            assert_eq!(st, StatusCode::OK, "{label}: {found}");
            let got: Vec<&str> =
                found["items"].as_array().map(|a| a.iter().filter_map(|e| e["name"].as_str()).collect()).unwrap_or_default();
            assert_eq!(got, expected, "{label}: q={q}");
        }
        // Two at a time, all of them once.
        let mut walked = Vec::new();
        let mut cursor = String::new();
        loop {
            let (_, page) = s.get(&format!("/api/v1/directory?limit=2&cursor={cursor}")).await;
            walked.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!(walked, ids(&all), "{label}");
        for bad in ["limit=0", "limit=500", "cursor=basura"] {
            let (st, _) = s.get(&format!("/api/v1/directory?{bad}")).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {bad}");
        }

        // Each reader sees only what they may read.
        for (role, expected) in [
            ("purchasing", vec!["Acindar Distribución", "Bulonera Ambos", "Marta Gómez"]),
            ("warehouse", vec!["Acindar Distribución", "Bulonera Ambos", "Ferretería Ñandú"]),
        ] {
            let token = s.token_for(role).await;
            let (st, seen) = s.call_as(&token, Method::GET, "/api/v1/directory", None).await;
            assert_eq!(st, StatusCode::OK, "{label}: {role}: {seen}");
            let got: Vec<&str> =
                seen["items"].as_array().map(|a| a.iter().filter_map(|e| e["name"].as_str()).collect()).unwrap_or_default();
            assert_eq!(got, expected, "{label}: {role}");
        }
        let production = s.token_for("production").await;
        let (st, _) = s.call_as(&production, Method::GET, "/api/v1/directory", None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_demo_gives_its_users_a_living_agenda() {
    for db in databases().await {
        let label = db.label;
        let app = db.app.clone();
        let system = app::Actor::system("demo");
        assert!(app::demo::fill(&app, &system).await.expect("demo"), "{label}");
        let input = app::auth::UserInput {
            username: Some("vendedora".into()),
            password: Some("una-clave-larga-99".into()),
            role: Some("salesperson".into()),
            ..Default::default()
        };
        let user = app::auth::create_user(&app, &system, &input).await.expect("user");
        // The next start of a demo server fills the agenda of the users made meanwhile.
        assert!(!app::demo::fill(&app, &system).await.expect("demo"), "{label}");
        let me = app::Actor { user_id: Some(user.id.clone()), ..system.clone() };
        let week = app::agenda::list_activities(
            &app,
            &me,
            &app::agenda::ActivityParams {
                from: Some(rfc(now() - Duration::days(3))),
                to: Some(rfc(now() + Duration::days(5))),
                ..Default::default()
            },
        )
        .await
        .expect("agenda");
        assert!(week.items.len() >= 5, "{label}: {} activities", week.items.len());
        assert!(week.items.iter().any(|a| a.done) && week.items.iter().any(|a| !a.done), "{label}");
        let memos = app::agenda::list_memos(&app, &me, &Default::default()).await.expect("memos");
        assert_eq!(memos.items.len(), 2, "{label}");
        assert!(memos.items.iter().any(|m| m.interaction_id.is_some()), "{label}: a known caller is on the timeline");
        db.cleanup().await;
    }
}
