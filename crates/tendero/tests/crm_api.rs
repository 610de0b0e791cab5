//! The CRM and the service desk over the REST API, on SQLite and PostgreSQL: the customer's
//! timeline of interactions, documents and tickets; a complaint by phone that misses the
//! front office's three minutes, is escalated to the back office, waits for the customer,
//! is solved and rated; service-level policies; who may do what.

mod common;

use app::testkit::{databases, have_aiosmtpd, SmtpSink};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

fn minutes_ago(m: i64) -> String {
    app::clock::text(app::clock::now() - time::Duration::minutes(m))
}

/// Moves a ticket's clock back as if it had been opened `m` minutes ago.
async fn opened_minutes_ago(s: &common::Server, ticket: &str, m: i64) {
    let at = minutes_ago(m);
    let due = app::clock::text(app::clock::now() - time::Duration::minutes(m - 3));
    let mut tx = s.db.app.db.begin().await.expect("tx");
    sqlx::query(
        "UPDATE tickets SET created_at = $1, sla_started_at = $1, resolution_due_at = $2, first_response_due_at = $2 WHERE id = $3",
    )
    .bind(&at)
    .bind(&due)
    .bind(ticket)
    .execute(&mut *tx)
    .await
    .expect("backdate ticket");
    sqlx::query("UPDATE ticket_events SET at = $1 WHERE ticket_id = $2")
        .bind(&at)
        .bind(ticket)
        .execute(&mut *tx)
        .await
        .expect("backdate events");
    tx.commit().await.expect("commit");
}

async fn customer(s: &common::Server, name: &str) -> String {
    let (st, c) = s.post("/api/v1/customers", json!({"name": name, "email": "compras@example.com.ar"})).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    id(&c)
}

#[tokio::test]
async fn interactions_documents_and_tickets_make_one_timeline_newest_first() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let c = customer(&s, "Ferretería Ñandú").await;
        let other = customer(&s, "Otro Cliente").await;
        let (st, contact) =
            s.post("/api/v1/contacts", json!({"party_id": c, "name": "Marta Gómez", "email": "marta@example.com.ar"})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {contact}");
        let contact = id(&contact);
        let (_, foreign) = s.post("/api/v1/contacts", json!({"party_id": other, "name": "Ajeno"})).await;

        let (st, call) = s
            .post(
                "/api/v1/interactions",
                json!({"customer_id": c, "contact_id": contact, "kind": "call", "direction": "in", "subject": "Pregunta por el envío",
                       "body": "Quiere saber cuándo llega el pedido.", "duration_minutes": 4, "occurred_at": minutes_ago(30)}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {call}");
        assert_eq!((call["channel"].as_str(), call["duration_minutes"].as_i64()), (Some("phone"), Some(4)), "a call goes by phone");
        let (st, order) = s
            .post(
                "/api/v1/orders",
                json!({"customer_id": c, "lines": [{"description": "Instalación", "quantity": "1", "unit_price": "100"}]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {order}");
        let (st, mail) = s
            .post(
                "/api/v1/interactions",
                json!({"customer_id": c, "kind": "email", "channel": "email", "direction": "out", "subject": "Envío del presupuesto"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {mail}");
        let (st, ticket) = s
            .post(
                "/api/v1/tickets",
                json!({"customer_id": c, "contact_id": contact, "type": "claim", "channel": "email", "subject": "Factura con error"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {ticket}");

        let (st, all) = s.get(&format!("/api/v1/customers/{c}/timeline")).await;
        assert_eq!(st, StatusCode::OK, "{label}: {all}");
        let seen: Vec<(&str, &str)> = all["items"]
            .as_array()
            .map(|a| a.iter().map(|e| (e["source"].as_str().unwrap_or(""), e["kind"].as_str().unwrap_or(""))).collect())
            .unwrap_or_default();
        assert_eq!(
            seen,
            vec![("ticket", "claim"), ("interaction", "email"), ("document", "order"), ("interaction", "call")],
            "{label}: newest first"
        );
        assert_eq!(all["items"][0]["number"], "T-000001", "{label}");

        // Two at a time: the cursor continues where the page ended, nothing twice.
        let (_, first) = s.get(&format!("/api/v1/customers/{c}/timeline?limit=2")).await;
        let cursor = first["next_cursor"].as_str().unwrap_or_default().to_string();
        assert!(!cursor.is_empty(), "{label}: {first}");
        let (_, second) = s.get(&format!("/api/v1/customers/{c}/timeline?limit=2&cursor={cursor}")).await;
        let ids = |v: &Value| v["items"].as_array().map(|a| a.iter().map(id).collect::<Vec<_>>()).unwrap_or_default();
        let mut paged = ids(&first);
        paged.extend(ids(&second));
        assert_eq!(paged, ids(&all), "{label}");
        assert!(second["next_cursor"].is_null(), "{label}: {second}");

        // Filters: only calls; only one contact's interactions and tickets.
        let (_, calls) = s.get(&format!("/api/v1/customers/{c}/timeline?kind=call")).await;
        assert_eq!(ids(&calls), vec![id(&call)], "{label}");
        let (_, marta) = s.get(&format!("/api/v1/customers/{c}/timeline?contact_id={contact}")).await;
        assert_eq!(ids(&marta), vec![id(&ticket), id(&call)], "{label}: {marta}");
        let (_, docs) = s.get(&format!("/api/v1/customers/{c}/timeline?sources=document")).await;
        assert_eq!(ids(&docs), vec![id(&order)], "{label}");
        let (_, none) = s.get(&format!("/api/v1/customers/{other}/timeline")).await;
        assert_eq!(none["items"], json!([]), "{label}: another customer's timeline is their own");

        // Bad input: a clear error on the field, nothing recorded.
        for (body, field) in [
            (json!({"customer_id": c, "kind": "telepathy", "subject": "x"}), "kind"),
            (json!({"customer_id": c, "kind": "call", "subject": "  "}), "subject"),
            (json!({"customer_id": c, "kind": "call", "subject": "x", "contact_id": id(&foreign)}), "contact_id"),
            (json!({"customer_id": c, "kind": "call", "subject": "x", "occurred_at": "2999-01-01T00:00:00Z"}), "occurred_at"),
            (json!({"customer_id": c, "kind": "call", "subject": "x", "occurred_at": "ayer"}), "occurred_at"),
            (json!({"customer_id": c, "kind": "call", "subject": "x", "duration_minutes": -5}), "duration_minutes"),
            (json!({"customer_id": "0192f000-0000-7000-8000-00000000dead", "kind": "call", "subject": "x"}), "customer_id"),
            (json!({"customer_id": c, "kind": "call", "subject": "x", "script_answers": [1, 2]}), "script_answers"),
        ] {
            let (st, err) = s.post("/api/v1/interactions", body.clone()).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body} → {err}");
            assert!(err["error"]["fields"][field].is_string(), "{label}: {field} named in {err}");
        }
        let (_, after) = s.get(&format!("/api/v1/customers/{c}/timeline")).await;
        assert_eq!(ids(&after), ids(&all), "{label}: nothing was recorded");
        let (st, bad) = s.get(&format!("/api/v1/customers/{c}/timeline?cursor=basura")).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {bad}");

        // The front office sees interactions and tickets, not the invoices it may not read.
        let front = s.token_for("front_office").await;
        let (st, fo) = s.call_as(&front, Method::GET, &format!("/api/v1/customers/{c}/timeline"), None).await;
        assert_eq!(st, StatusCode::OK, "{label}: {fo}");
        assert!(fo["items"].as_array().is_some_and(|a| a.len() == 3 && a.iter().all(|e| e["source"] != "document")), "{label}: {fo}");
        let warehouse = s.token_for("warehouse").await;
        let (st, _) = s.call_as(&warehouse, Method::GET, &format!("/api/v1/customers/{c}/timeline"), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        let marketing = s.token_for("marketing").await;
        let (st, _) = s
            .call_as(&marketing, Method::POST, "/api/v1/interactions", Some(json!({"customer_id": c, "kind": "note", "subject": "x"})))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}: marketing reads, does not log");
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_phone_complaint_misses_three_minutes_is_escalated_waits_is_solved_and_rated() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let c = customer(&s, "Agroferretería Pergamino").await;
        let front = s.token_for("front_office").await;
        let (st, t) = s
            .call_as(
                &front,
                Method::POST,
                "/api/v1/tickets",
                Some(json!({"customer_id": c, "type": "complaint", "channel": "phone", "subject": "Llegó roto", "body": "La caja llegó aplastada."})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {t}");
        assert_eq!(
            (t["status"].as_str(), t["team"].as_str(), t["sla_policy"].as_str(), t["reference"].as_str()),
            (Some("new"), Some("front_office"), Some("immediate"), Some("T-000001")),
            "{label}: what comes in by phone is for the front office at once"
        );
        let created = time::OffsetDateTime::parse(t["created_at"].as_str().unwrap_or(""), &time::format_description::well_known::Rfc3339)
            .expect("created_at");
        let due =
            time::OffsetDateTime::parse(t["resolution_due_at"].as_str().unwrap_or(""), &time::format_description::well_known::Rfc3339)
                .expect("due");
        assert_eq!(due - created, time::Duration::minutes(3), "{label}: solve within 3 minutes");
        assert_eq!(t["requester_email"], "compras@example.com.ar", "{label}: the customer's address answers the ticket");
        let tid = id(&t);

        // Five minutes later the front office has not solved it: breached.
        opened_minutes_ago(&s, &tid, 5).await;
        let (_, late) = s.get(&format!("/api/v1/tickets/{tid}")).await;
        assert_eq!(
            (late["resolution"]["breached"].as_bool(), late["first_response"]["breached"].as_bool()),
            (Some(true), Some(true)),
            "{label}: {late}"
        );
        let (_, breached) = s.get("/api/v1/tickets?breached=true").await;
        assert_eq!(
            breached["items"].as_array().map(|a| a.iter().map(id).collect::<Vec<_>>()),
            Some(vec![tid.clone()]),
            "{label}: {breached}"
        );

        // Escalating needs a reason; then the back office's day starts now.
        let (st, err) = s.call_as(&front, Method::POST, &format!("/api/v1/tickets/{tid}/escalate"), None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {err}");
        let (st, esc) = s
            .call_as(
                &front,
                Method::POST,
                &format!("/api/v1/tickets/{tid}/escalate"),
                Some(json!({"note": "Hay que revisar el lote con el depósito"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{label}: {esc}");
        assert_eq!(
            (esc["status"].as_str(), esc["team"].as_str(), esc["sla_policy"].as_str(), esc["resolution"]["breached"].as_bool()),
            (Some("escalated"), Some("back_office"), Some("deferred"), Some(false)),
            "{label}: {esc}"
        );
        assert_eq!(esc["escalation_reason"], "Hay que revisar el lote con el depósito");
        let left = esc["resolution"]["remaining_minutes"].as_i64().unwrap_or(0);
        assert!((1438..=1440).contains(&left), "{label}: 24 hours from the escalation, {left} min left");
        let (st, again) =
            s.call_as(&front, Method::POST, &format!("/api/v1/tickets/{tid}/escalate"), Some(json!({"note": "otra vez"}))).await;
        assert_eq!((st, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("refused")), "{label}: escalated once");

        // The back office asks the customer something: the clock pauses.
        let back = s.token_for("back_office").await;
        let (st, msg) = s
            .call_as(
                &back,
                Method::POST,
                &format!("/api/v1/tickets/{tid}/messages"),
                Some(json!({"body": "¿Nos envía una foto de la caja?", "wait": true})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {msg}");
        assert!(msg["delivery_error"].is_string(), "{label}: no mail server, so the reply says it was not sent: {msg}");
        let (_, waiting) = s.get(&format!("/api/v1/tickets/{tid}")).await;
        assert_eq!(
            (waiting["status"].as_str(), waiting["resolution"]["paused"].as_bool(), waiting["resolution_due_at"].is_null()),
            (Some("waiting"), Some(true), true),
            "{label}: {waiting}"
        );
        assert!(waiting["first_response_at"].is_string(), "{label}: the reply answered the ticket");
        let kinds: Vec<&str> =
            waiting["messages"].as_array().map(|a| a.iter().filter_map(|m| m["kind"].as_str()).collect()).unwrap_or_default();
        assert_eq!(kinds, vec!["incoming", "reply"], "{label}");
        let (st, note) = s
            .call_as(&back, Method::POST, &format!("/api/v1/tickets/{tid}/messages"), Some(json!({"body": "Lote 42", "kind": "note"})))
            .await;
        assert_eq!((st, note["delivery_error"].is_null()), (StatusCode::CREATED, true), "{label}: a note is not mailed: {note}");

        let (st, resumed) = s.call_as(&back, Method::POST, &format!("/api/v1/tickets/{tid}/resume"), None).await;
        assert_eq!((st, resumed["status"].as_str()), (StatusCode::OK, Some("escalated")), "{label}: {resumed}");
        // A salesperson may open tickets but not work them.
        let seller = s.token_for("salesperson").await;
        let (st, _) = s.call_as(&seller, Method::POST, &format!("/api/v1/tickets/{tid}/solve"), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");

        // Solved by the back office (through the use case, which hands back the rating
        // link's secret that the API e-mails to the customer).
        let back_actor = app::auth::token_actor(&s.db.app, &back).await.ok().flatten().expect("back office actor");
        let (solved, token) =
            app::desk::move_ticket(&s.db.app, &back_actor, &tid, domain::desk::Move::Solve, &app::desk::MoveIn::default())
                .await
                .expect("solve");
        assert_eq!((solved.status.as_str(), solved.resolution.breached, solved.resolution.done), ("solved", false, true), "{label}");
        let token = token.expect("a rating link");
        assert!(matches!(app::desk::rate(&s.db.app, "tampered", 5, None).await, Err(app::AppError::NotFound)), "{label}");
        assert!(matches!(app::desk::rate(&s.db.app, &token, 9, None).await, Err(app::AppError::Invalid(_))), "{label}");
        let rated = app::desk::rate(&s.db.app, &token, 4, Some("Rápidos, gracias")).await.expect("rate");
        assert_eq!((rated.rating, rated.rating_comment.as_deref()), (Some(4), Some("Rápidos, gracias")), "{label}");
        assert!(matches!(app::desk::rate(&s.db.app, &token, 1, None).await, Err(app::AppError::Refused("rating-used"))), "{label}: once");

        let (_, done) = s.get(&format!("/api/v1/tickets/{tid}")).await;
        let statuses: Vec<&str> =
            done["events"].as_array().map(|a| a.iter().filter_map(|e| e["status"].as_str()).collect()).unwrap_or_default();
        assert_eq!(statuses, vec!["new", "escalated", "waiting", "escalated", "solved"], "{label}: the history the clock reads");
        assert_eq!(done["rating"], 4, "{label}");
        let (_, open) = s.get("/api/v1/tickets").await;
        assert_eq!(open["items"], json!([]), "{label}: no open tickets left");
        let (_, all) = s.get("/api/v1/tickets?status=all").await;
        assert_eq!(all["items"].as_array().map(Vec::len), Some(1), "{label}");
        let (st, compliance) = s.get("/api/v1/stats/service").await;
        assert_eq!(st, StatusCode::OK, "{label}: {compliance}");
        assert_eq!(
            compliance["items"],
            json!([{"team": "back_office", "solved": 1, "breached": 0, "compliance_percent": "100.00"}]),
            "{label}"
        );
        let (st, closed) = s.call_as(&back, Method::POST, &format!("/api/v1/tickets/{tid}/close"), None).await;
        assert_eq!((st, closed["status"].as_str()), (StatusCode::OK, Some("closed")), "{label}");
        let (st, _) = s.call_as(&back, Method::POST, &format!("/api/v1/tickets/{tid}/messages"), Some(json!({"body": "tarde"}))).await;
        assert_eq!(st, StatusCode::CONFLICT, "{label}: a closed ticket takes no more messages");
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn service_level_policies_are_chosen_by_their_conditions() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let c = customer(&s, "Cliente Urgente").await;
        let (st, policies) = s.get("/api/v1/sla-policies").await;
        assert_eq!(st, StatusCode::OK);
        let codes: Vec<&str> =
            policies["items"].as_array().map(|a| a.iter().filter_map(|p| p["code"].as_str()).collect()).unwrap_or_default();
        assert_eq!(codes, vec!["immediate", "deferred"], "{label}");

        let (st, bad) = s.post("/api/v1/business-calendars", json!({"name": "Mal", "hours": "lun-vie 18:00-09:00"})).await;
        assert_eq!((st, bad["error"]["fields"]["hours"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true), "{label}: {bad}");
        let (st, cal) = s
            .post("/api/v1/business-calendars", json!({"name": "Mesa de ayuda", "hours": "lun-vie 09:00-18:00; sáb 09:00-13:00", "utc_offset_minutes": -180, "holidays": ["2026-12-25"]}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {cal}");
        assert_eq!(cal["hours"], "mon-fri 09:00-18:00; sat 09:00-13:00", "{label}: written back in the canonical form");

        let (st, bad) = s
            .post(
                "/api/v1/sla-policies",
                json!({"code": "x", "name": "X", "team": "nowhere", "first_response_minutes": 0, "resolution_minutes": 60}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {bad}");
        assert!(
            bad["error"]["fields"]["team"].is_string() && bad["error"]["fields"]["first_response_minutes"].is_string(),
            "{label}: {bad}"
        );
        let (st, urgent) = s
            .post(
                "/api/v1/sla-policies",
                json!({"code": "urgent", "name": "Urgente", "team": "back_office", "first_response_minutes": 30, "resolution_minutes": 240,
                       "calendar_id": id(&cal), "match_priorities": ["urgent"], "position": 5}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {urgent}");

        let (_, t) = s
            .post(
                "/api/v1/tickets",
                json!({"customer_id": c, "type": "claim", "channel": "phone", "priority": "urgent", "subject": "Sin servicio"}),
            )
            .await;
        assert_eq!(
            (t["sla_policy"].as_str(), t["team"].as_str()),
            (Some("urgent"), Some("back_office")),
            "{label}: position 5 comes first: {t}"
        );
        let (_, t) = s
            .post("/api/v1/tickets", json!({"customer_id": c, "type": "request", "channel": "email", "subject": "Lista de precios"}))
            .await;
        assert_eq!(
            (t["sla_policy"].as_str(), t["team"].as_str()),
            (Some("deferred"), Some("back_office")),
            "{label}: e-mail is not live: {t}"
        );

        let (st, archive) = s
            .patch(&format!("/api/v1/sla-policies/{}", policies["items"][0]["id"].as_str().unwrap_or("")), json!({"archived": true}))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: the built-in policies stay: {archive}");

        for (body, field) in [
            (json!({"customer_id": c, "type": "rant", "subject": "x"}), "type"),
            (json!({"customer_id": c, "type": "claim", "subject": "x", "priority": "asap"}), "priority"),
            (json!({"type": "claim", "subject": "x"}), "customer_id"),
            (json!({"customer_id": c, "type": "claim", "subject": "x", "assignee": "nadie"}), "assignee"),
        ] {
            let (st, err) = s.post("/api/v1/tickets", body.clone()).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body} → {err}");
            assert!(err["error"]["fields"][field].is_string(), "{label}: {field} in {err}");
        }
        let (_, all) = s.get("/api/v1/tickets?status=all").await;
        assert_eq!(all["items"].as_array().map(Vec::len), Some(2), "{label}: the refused tickets took no number");
        let front = s.token_for("front_office").await;
        let (st, _) = s.call_as(&front, Method::POST, "/api/v1/sla-policies", Some(json!({"code": "y"}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}: the manager sets service levels");
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn replies_and_the_rating_link_go_to_the_customer_by_mail() {
    if !have_aiosmtpd() {
        return;
    }
    let sink = SmtpSink::start(&[]);
    let cfg = app::mail::MailConfig::parse(&sink.url("smtp", ""), "Atención <ayuda@delplata.com.ar>").expect("config");
    let mailer = app::mail::Mailer::new(cfg).expect("mailer");
    let s = common::spawn_with_mailer(app::testkit::sqlite().await, Some(mailer)).await;
    let c = customer(&s, "Cliente Con Correo").await;
    let (_, t) =
        s.post("/api/v1/tickets", json!({"customer_id": c, "type": "request", "channel": "email", "subject": "Lista de precios"})).await;
    let tid = id(&t);
    let (st, msg) = s.post(&format!("/api/v1/tickets/{tid}/messages"), json!({"body": "Le adjuntamos la lista."})).await;
    assert_eq!((st, msg["delivery_error"].is_null()), (StatusCode::CREATED, true), "{msg}");
    let (st, solved) = s.call(Method::POST, &format!("/api/v1/tickets/{tid}/solve"), None).await;
    assert_eq!((st, solved["status"].as_str()), (StatusCode::OK, Some("solved")), "{solved}");
    let files = sink.received();
    assert_eq!(files.len(), 2, "the reply and the rating link");
    // Quoted-printable may fold long lines with a soft break.
    let mut mails: Vec<String> =
        files.iter().map(|f| std::fs::read_to_string(f).expect("mail").replace("=\r\n", "").replace("=\n", "")).collect();
    // Maildir names do not sort by arrival within a second: tell them apart by content.
    mails.sort_by_key(|m| m.contains("/rate/"));
    let (reply, rating) = (&mails[0], &mails[1]);
    assert!(reply.contains("[T-000001] Lista de precios") && reply.contains("compras@example.com.ar"), "{reply}");
    let token = rating
        .split("/rate/")
        .nth(1)
        .map(|r| r.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect::<String>());
    let token = token.expect("a rating link in the mail");
    let rated = app::desk::rate(&s.db.app, &token, 5, None).await.expect("the mailed link rates the ticket");
    assert_eq!(rated.rating, Some(5));
    s.db.cleanup().await;
}

#[tokio::test]
async fn a_customers_lifecycle_follows_their_purchases_and_a_hand_set_one_stays() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let recent = customer(&s, "Compra Seguido").await;
        let old = customer(&s, "Compró Hace Mucho").await;
        let never = customer(&s, "Nunca Compró").await;
        let lifecycle = |v: &Value| v["lifecycle"].as_str().unwrap_or_default().to_string();
        let (_, c) = s.get(&format!("/api/v1/customers/{recent}")).await;
        assert_eq!(lifecycle(&c), "prospect", "{label}: a new customer is a prospect");

        let today = app::clock::now().date();
        for (who, days_ago) in [(&recent, 3), (&old, 400)] {
            let date = (today - time::Duration::days(days_ago)).to_string();
            let (st, inv) = s
                .post("/api/v1/invoices", json!({"customer_id": who, "issue_date": date, "lines": [{"description": "Servicio", "quantity": "1", "unit_price": "100"}]}))
                .await;
            assert_eq!(st, StatusCode::CREATED, "{label}: {inv}");
            let (st, posted) = s.call(Method::POST, &format!("/api/v1/invoices/{}/post", id(&inv)), None).await;
            assert_eq!(st, StatusCode::OK, "{label}: {posted}");
        }
        let state = |who: String| {
            let s = &s;
            async move { lifecycle(&s.get(&format!("/api/v1/customers/{who}")).await.1) }
        };
        assert_eq!(
            (state(recent.clone()).await, state(old.clone()).await, state(never.clone()).await),
            ("active".to_string(), "inactive".to_string(), "prospect".to_string()),
            "{label}: posting an invoice updates its customer (180 days by default)"
        );
        let names = |v: &Value| {
            v["items"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c["name"].as_str().map(str::to_string)).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let (_, inactive) = s.get("/api/v1/customers?lifecycle=inactive").await;
        assert_eq!(names(&inactive), vec!["Compró Hace Mucho"], "{label}");
        let (st, bad) = s.get("/api/v1/customers?lifecycle=zombie").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {bad}");

        // A manager knows better: set by hand, kept when the rule runs again.
        let (st, set) = s.call(Method::PUT, &format!("/api/v1/customers/{old}/lifecycle"), Some(json!({"lifecycle": "active"}))).await;
        assert_eq!((st, set["lifecycle"].as_str(), set["set_by"].is_string()), (StatusCode::OK, Some("active"), true), "{label}: {set}");
        app::crm::refresh_lifecycles(&s.db.app).await.expect("daily job");
        assert_eq!(state(old.clone()).await, "active", "{label}: the daily job keeps a hand-set lifecycle");
        let (st, bad) = s.call(Method::PUT, &format!("/api/v1/customers/{old}/lifecycle"), Some(json!({"lifecycle": "zombie"}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {bad}");
        let (_, cleared) = s.call(Method::PUT, &format!("/api/v1/customers/{old}/lifecycle"), Some(json!({"lifecycle": null}))).await;
        assert_eq!(
            (cleared["lifecycle"].as_str(), cleared["set_by"].is_null()),
            (Some("inactive"), true),
            "{label}: derived again: {cleared}"
        );
        let (_, hist) = s.get(&format!("/api/v1/customers/{old}/history")).await;
        assert!(hist.as_array().is_some_and(|h| h.iter().filter(|e| e["action"] == "lifecycle").count() == 2), "{label}: {hist}");

        // A longer threshold brings the old customer back to active.
        let (st, settings) = s.patch("/api/v1/settings/sales", json!({"customer_inactive_after_days": 500})).await;
        assert_eq!((st, settings["customer_inactive_after_days"].as_i64()), (StatusCode::OK, Some(500)), "{label}: {settings}");
        assert_eq!(state(old.clone()).await, "active", "{label}");
        let (st, _) = s.patch("/api/v1/settings/sales", json!({"customer_inactive_after_days": 0})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        let seller = s.token_for("marketing").await;
        let (st, _) =
            s.call_as(&seller, Method::PUT, &format!("/api/v1/customers/{old}/lifecycle"), Some(json!({"lifecycle": "inactive"}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_call_guided_by_a_script_keeps_its_answers_on_the_timeline() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let c = customer(&s, "Cliente Encuestado").await;
        let steps = json!([
            {"id": "interes", "question": "¿Le interesa la nueva línea?", "answers": [{"label": "Sí", "next": "presupuesto"}, {"label": "No", "next": "motivo"}]},
            {"id": "presupuesto", "question": "¿Le enviamos un presupuesto?", "answers": [{"label": "Sí", "next": "end"}, {"label": "Más adelante", "next": "end"}]},
            {"id": "motivo", "question": "¿Por qué no?", "answers": [{"label": "Precio", "next": "end"}, {"label": "Ya tiene proveedor", "next": "end"}]}
        ]);
        for (bad, key) in [
            (json!([{"id": "a", "question": "¿?", "answers": [{"label": "x", "next": "a"}]}]), "script-cycle"),
            (json!([{"id": "a", "question": "¿?", "answers": [{"label": "x", "next": "b"}]}]), "script-next-unknown"),
            (json!("no es una lista"), "script-step-invalid"),
        ] {
            let (st, err) = s.post("/api/v1/call-scripts", json!({"name": "Malo", "steps": bad})).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {err}");
            assert!(err["error"]["fields"]["steps"].is_string(), "{label}: {key}: {err}");
        }
        let (st, script) = s.post("/api/v1/call-scripts", json!({"name": "Nueva línea", "purpose": "ventas", "steps": steps})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {script}");
        let sid = id(&script);
        let front = s.token_for("front_office").await;
        let run = |answers: Value| json!({"customer_id": c, "answers": answers, "duration_minutes": 3});
        let (st, err) = s
            .call_as(
                &front,
                Method::POST,
                &format!("/api/v1/call-scripts/{sid}/run"),
                Some(run(json!([{"step": "interes", "answer": "No"}, {"step": "presupuesto", "answer": "Sí"}]))),
            )
            .await;
        assert_eq!((st, err["error"]["fields"]["answers"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true), "{label}: {err}");
        let (st, call) = s
            .call_as(
                &front,
                Method::POST,
                &format!("/api/v1/call-scripts/{sid}/run"),
                Some(run(json!([{"step": "interes", "answer": "No"}, {"step": "motivo", "answer": "Precio"}]))),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {call}");
        assert_eq!(
            (call["kind"].as_str(), call["subject"].as_str(), call["outcome"].as_str()),
            (Some("call"), Some("Nueva línea"), Some("Precio")),
            "{label}"
        );
        assert_eq!(call["script_answers"]["answers"][1], json!({"step": "motivo", "answer": "Precio"}), "{label}: {call}");
        let (_, tl) = s.get(&format!("/api/v1/customers/{c}/timeline")).await;
        assert_eq!(tl["items"][0]["id"], call["id"], "{label}: the call is on the timeline");
        let (st, _) = s.call_as(&front, Method::POST, "/api/v1/call-scripts", Some(json!({"name": "x", "steps": steps}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}: the manager writes scripts, agents run them");
        s.db.cleanup().await;
    }
}
