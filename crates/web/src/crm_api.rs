//! The CRM and service-desk API: interactions, the customer's timeline, tickets with their
//! conversation and life (take, wait, resume, escalate, solve, close, reopen), service-level
//! policies, business calendars and service-level compliance. Also the mail a ticket
//! sends: replies to the customer and the rating link when it is solved.

use crate::api::ApiActor;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::sales_api::{created, fail, OptJson};
use crate::AppState;
use app::crm::{self as c, Interaction, InteractionIn, TimelineEntry, TimelineParams};
use app::desk::{self as d, BusinessCalendar, CalendarIn, Compliance, ComplianceParams, MessageIn, MoveIn, SlaPolicy, SlaPolicyIn};
use app::desk::{Ticket, TicketDetail, TicketIn, TicketParams};
use app::master::Page;
use app::Actor;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use domain::desk::Move;
use serde::Serialize;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The life moves of a ticket and their paths.
pub const MOVES: &[(&str, Move)] = &[
    ("take", Move::Take),
    ("wait", Move::Wait),
    ("resume", Move::Resume),
    ("escalate", Move::Escalate),
    ("solve", Move::Solve),
    ("close", Move::Close),
    ("reopen", Move::Reopen),
];

/// The address this server is reached at, as the request gives it, for links in mail.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let proto = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).filter(|p| *p == "https").unwrap_or("http");
    format!("{proto}://{host}")
}

/// E-mails a reply to whoever asked; a failure is recorded on the message (the reply
/// stays in the conversation) and returned as its `delivery_error`.
pub async fn mail_reply(st: &AppState, locale: &str, ticket: &Ticket, msg: &mut d::TicketMessage) {
    if msg.kind != "reply" {
        return;
    }
    let t = |k: &str| st.i18n.t(locale, k);
    let error = match (&st.mailer, &ticket.requester_email) {
        (None, _) => Some(t("mail-not-configured")),
        (_, None) => Some(t("ticket-no-email")),
        (Some(mailer), Some(to)) => {
            let message = app::mail::Message {
                to: vec![to.clone()],
                subject: format!("[{}] {}", ticket.reference, ticket.subject),
                text: format!("{}\n\n-- \n{}\n", msg.body, t("ticket-mail-footer")),
                ..Default::default()
            };
            match mailer.send(&message).await {
                Ok(id) => {
                    let _ = d::message_mailed(&st.app, &msg.id, &id).await;
                    None
                }
                Err(e) => Some(e.to_string()),
            }
        }
    };
    if let Some(e) = error {
        let _ = d::delivery_failed(&st.app, &msg.id, &e).await;
        msg.delivery_error = Some(e);
    }
}

/// Sends the one-time rating link of a solved ticket to whoever asked (when there is an
/// address and a mail server); says whether it went.
pub async fn mail_rating(st: &AppState, locale: &str, base: &str, ticket: &Ticket, token: &str) -> bool {
    let (Some(mailer), Some(to)) = (&st.mailer, &ticket.requester_email) else { return false };
    let t = |k: &str| st.i18n.t(locale, k);
    let link = format!("{base}/rate/{token}");
    let message = app::mail::Message {
        to: vec![to.clone()],
        subject: format!("[{}] {}", ticket.reference, t("rating-mail-subject")),
        text: format!("{}\n\n{}\n\n{link}\n", t("rating-mail-solved"), t("rating-mail-ask")),
        ..Default::default()
    };
    mailer.send(&message).await.is_ok()
}

async fn interaction_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<InteractionIn>,
) -> Result<(StatusCode, Json<Interaction>), ApiError> {
    c::create_interaction(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn interaction_get_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Interaction> {
    c::get_interaction(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn timeline_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<TimelineParams>,
) -> ApiResult<Page<TimelineEntry>> {
    c::timeline(&st.app, &a.actor, &id, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn lifecycle_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<c::Lifecycle> {
    c::lifecycle(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn lifecycle_set_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<c::LifecycleIn>,
) -> ApiResult<c::Lifecycle> {
    c::set_lifecycle(&st.app, &a.actor, &id, &i).await.map(Json).map_err(fail(&st, &a))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Scripts {
    pub items: Vec<c::CallScript>,
}

async fn scripts_h(State(st): State<AppState>, a: ApiActor) -> ApiResult<Scripts> {
    c::call_scripts(&st.app, &a.actor).await.map(|items| Json(Scripts { items })).map_err(fail(&st, &a))
}

async fn script_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<c::CallScriptIn>,
) -> Result<(StatusCode, Json<c::CallScript>), ApiError> {
    c::save_call_script(&st.app, &a.actor, None, &i).await.map(created).map_err(fail(&st, &a))
}

async fn script_get_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<c::CallScript> {
    c::get_call_script(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn script_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<c::CallScriptIn>,
) -> ApiResult<c::CallScript> {
    c::save_call_script(&st.app, &a.actor, Some(&id), &i).await.map(Json).map_err(fail(&st, &a))
}

async fn script_run_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<c::ScriptRunIn>,
) -> Result<(StatusCode, Json<Interaction>), ApiError> {
    c::run_call_script(&st.app, &a.actor, &id, &i).await.map(created).map_err(fail(&st, &a))
}

async fn tickets_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<TicketParams>) -> ApiResult<Page<Ticket>> {
    d::list_tickets(&st.app, &a.actor, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn ticket_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<TicketIn>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    d::create_ticket(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn ticket_get_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<TicketDetail> {
    d::get_ticket(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Messages {
    pub items: Vec<d::TicketMessage>,
}

async fn messages_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Messages> {
    d::get_ticket(&st.app, &a.actor, &id).await.map(|t| Json(Messages { items: t.messages })).map_err(fail(&st, &a))
}

async fn message_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<MessageIn>,
) -> Result<(StatusCode, Json<d::TicketMessage>), ApiError> {
    let (detail, mut msg) = d::add_message(&st.app, &a.actor, &id, &i).await.map_err(fail(&st, &a))?;
    mail_reply(&st, a.locale, &detail.ticket, &mut msg).await;
    Ok(created(msg))
}

/// Moves a ticket; solving mails the rating link to the customer.
pub async fn move_and_notify(
    st: &AppState,
    actor: &Actor,
    locale: &str,
    headers: &HeaderMap,
    id: &str,
    m: Move,
    i: &MoveIn,
) -> app::AppResult<Ticket> {
    let (ticket, token) = d::move_ticket(&st.app, actor, id, m, i).await?;
    if let Some(token) = token {
        mail_rating(st, locale, &base_url(headers), &ticket, &token).await;
    }
    Ok(ticket)
}

async fn policies_h(State(st): State<AppState>, a: ApiActor) -> ApiResult<Policies> {
    d::policies(&st.app, &a.actor).await.map(|items| Json(Policies { items })).map_err(fail(&st, &a))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Policies {
    pub items: Vec<SlaPolicy>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Calendars {
    pub items: Vec<BusinessCalendar>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ComplianceReport {
    pub items: Vec<Compliance>,
}

async fn policy_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<SlaPolicyIn>,
) -> Result<(StatusCode, Json<SlaPolicy>), ApiError> {
    d::save_policy(&st.app, &a.actor, None, &i).await.map(created).map_err(fail(&st, &a))
}

async fn policy_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<SlaPolicyIn>,
) -> ApiResult<SlaPolicy> {
    d::save_policy(&st.app, &a.actor, Some(&id), &i).await.map(Json).map_err(fail(&st, &a))
}

async fn calendars_h(State(st): State<AppState>, a: ApiActor) -> ApiResult<Calendars> {
    d::calendars(&st.app, &a.actor).await.map(|items| Json(Calendars { items })).map_err(fail(&st, &a))
}

async fn calendar_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<CalendarIn>,
) -> Result<(StatusCode, Json<BusinessCalendar>), ApiError> {
    d::save_calendar(&st.app, &a.actor, None, &i).await.map(created).map_err(fail(&st, &a))
}

async fn calendar_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<CalendarIn>,
) -> ApiResult<BusinessCalendar> {
    d::save_calendar(&st.app, &a.actor, Some(&id), &i).await.map(Json).map_err(fail(&st, &a))
}

async fn compliance_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<ComplianceParams>) -> ApiResult<ComplianceReport> {
    d::compliance(&st.app, &a.actor, &p).await.map(|items| Json(ComplianceReport { items })).map_err(fail(&st, &a))
}

pub fn router(mut r: Router<AppState>) -> Router<AppState> {
    for (name, m) in MOVES {
        let m = *m;
        let act = move |State(st): State<AppState>,
                        a: ApiActor,
                        headers: HeaderMap,
                        Path(id): Path<String>,
                        OptJson(i): OptJson<MoveIn>| async move {
            move_and_notify(&st, &a.actor, a.locale, &headers, &id, m, &i).await.map(Json).map_err(fail(&st, &a))
        };
        r = r.route(&format!("/tickets/{{id}}/{name}"), post(act));
    }
    r.route("/interactions", post(interaction_create_h))
        .route("/interactions/{id}", get(interaction_get_h))
        .route("/customers/{id}/timeline", get(timeline_h))
        .route("/customers/{id}/lifecycle", get(lifecycle_h).put(lifecycle_set_h))
        .route("/call-scripts", get(scripts_h).post(script_create_h))
        .route("/call-scripts/{id}", get(script_get_h).patch(script_update_h))
        .route("/call-scripts/{id}/run", post(script_run_h))
        .route("/tickets", get(tickets_h).post(ticket_create_h))
        .route("/tickets/{id}", get(ticket_get_h))
        .route("/tickets/{id}/messages", get(messages_h).post(message_create_h))
        .route("/sla-policies", get(policies_h).post(policy_create_h))
        .route("/sla-policies/{id}", patch(policy_update_h))
        .route("/business-calendars", get(calendars_h).post(calendar_create_h))
        .route("/business-calendars/{id}", patch(calendar_update_h))
        .route("/stats/service", get(compliance_h))
}
