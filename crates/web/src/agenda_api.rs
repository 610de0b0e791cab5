//! The agenda API: activities (calls, meetings, tasks) with reminders, the user's private
//! iCalendar feed, phone memos and the directory. Also the mail they send: a memo to its
//! recipient (after the memo is stored), and the reminders the server's minute job sends.

use crate::api::ApiActor;
use crate::crm_api::base_url;
use crate::error::{locale_of, ApiError, ApiJson, ApiQuery};
use crate::AppState;
use app::agenda::{self as ag, Activity, ActivityIn, ActivityParams, DirectoryEntry, DirectoryParams, Memo, MemoIn, MemoParams};
use app::master::Page;
use app::AppError;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

type ApiResult<T> = Result<Json<T>, ApiError>;

fn fail(s: &AppState, a: &ApiActor) -> impl Fn(AppError) -> ApiError {
    let i18n = s.i18n.clone();
    let locale = a.locale;
    move |e| ApiError::from_app(e, &i18n, locale)
}

fn created<T: Serialize>(v: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(v))
}

/// A list that is not paginated.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Activities {
    pub items: Vec<Activity>,
}

async fn activities_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<ActivityParams>) -> ApiResult<Page<Activity>> {
    ag::list_activities(&st.app, &a.actor, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn activity_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<ActivityIn>,
) -> Result<(StatusCode, Json<Activity>), ApiError> {
    ag::create_activity(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn activity_get_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Activity> {
    ag::get_activity(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn activity_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<ActivityIn>,
) -> ApiResult<Activity> {
    ag::update_activity(&st.app, &a.actor, &id, &i).await.map(Json).map_err(fail(&st, &a))
}

async fn done_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Activity> {
    ag::set_done(&st.app, &a.actor, &id, true).await.map(Json).map_err(fail(&st, &a))
}

async fn undone_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Activity> {
    ag::set_done(&st.app, &a.actor, &id, false).await.map(Json).map_err(fail(&st, &a))
}

async fn due_h(State(st): State<AppState>, a: ApiActor) -> ApiResult<Activities> {
    ag::due_reminders(&st.app, &a.actor).await.map(|items| Json(Activities { items })).map_err(fail(&st, &a))
}

/// The token's user, with the address of their calendar feed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserMe {
    pub id: Option<String>,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub locale: String,
    /// The private address of the user's calendar feed (iCalendar), for calendar programs
    /// to subscribe to. Only a fingerprint of its secret is kept, so the address is given
    /// once: when it is made (the first time this is asked, or by
    /// `POST /api/v1/users/me/calendar-feed`); `null` afterwards.
    pub calendar_feed_url: Option<String>,
    /// When the current feed address was made.
    pub calendar_feed_created_at: Option<String>,
    /// Phone memos not read yet.
    pub unread_memos: i64,
}

/// The address of a feed.
pub fn feed_url(headers: &HeaderMap, token: &str) -> String {
    format!("{}/api/v1/calendar/{token}.ics", base_url(headers))
}

async fn me_h(State(st): State<AppState>, a: ApiActor, headers: HeaderMap) -> ApiResult<UserMe> {
    let feed = ag::calendar_feed(&st.app, &a.actor).await.map_err(fail(&st, &a))?;
    let unread_memos = ag::unread_memos(&st.app, &a.actor).await.map_err(fail(&st, &a))?;
    Ok(Json(UserMe {
        id: a.actor.user_id.clone(),
        username: a.actor.username.clone(),
        display_name: a.actor.display_name.clone(),
        role: a.actor.role.code().to_string(),
        locale: a.actor.locale.clone(),
        calendar_feed_url: feed.token.map(|t| feed_url(&headers, &t)),
        calendar_feed_created_at: Some(feed.created_at),
        unread_memos,
    }))
}

/// A new feed address (the old one stops working).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CalendarFeed {
    pub calendar_feed_url: String,
    pub created_at: String,
}

async fn feed_new_h(State(st): State<AppState>, a: ApiActor, headers: HeaderMap) -> Result<(StatusCode, Json<CalendarFeed>), ApiError> {
    let feed = ag::regenerate_feed(&st.app, &a.actor).await.map_err(fail(&st, &a))?;
    let token = feed.token.unwrap_or_default();
    Ok(created(CalendarFeed { calendar_feed_url: feed_url(&headers, &token), created_at: feed.created_at }))
}

/// The feed itself: no bearer token, the secret in the address is the key.
async fn feed_h(State(st): State<AppState>, parts: Parts, Path(file): Path<String>) -> Response {
    let locale = locale_of(&parts);
    let Some(token) = file.strip_suffix(".ics") else {
        return ApiError::from_app(AppError::NotFound, &st.i18n, locale).into_response();
    };
    match ag::feed_ics(&st.app, token).await {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, no-cache"),
                (header::CONTENT_DISPOSITION, "inline; filename=\"tendero.ics\""),
            ],
            text,
        )
            .into_response(),
        Err(e) => ApiError::from_app(e, &st.i18n, locale).into_response(),
    }
}

/// E-mails a memo to its recipient when there is a mail server and an address; a failure
/// is recorded on the memo (which stays delivered in the application).
pub async fn mail_memo(st: &AppState, taken: &mut ag::TakenMemo) {
    let (Some(mailer), Some(to)) = (&st.mailer, &taken.recipient_email) else { return };
    let locale = taken.recipient_locale.as_str();
    let t = |k: &str| st.i18n.t(locale, k);
    let m = &taken.memo;
    let offset = ag::local_offset(&st.app).await.unwrap_or(time::UtcOffset::UTC);
    let mut lines = vec![
        format!("{}: {}", t("field-caller"), m.caller),
        format!("{}: {}", t("field-company"), m.company.clone().unwrap_or_default()),
        format!("{}: {}", t("field-phone"), m.phone.clone().unwrap_or_default()),
        format!("{}: {}", t("field-urgency"), t(&format!("urgency-{}", m.urgency))),
    ];
    if let Some(agreed) = &m.agreed {
        lines.push(format!("{}: {}", t("field-agreed"), t(&format!("agreed-{agreed}"))));
    }
    if let Some(msg) = &m.message {
        lines.push(String::new());
        lines.push(msg.clone());
    }
    lines.push(String::new());
    lines.push(format!("{}: {} · {}", t("memo-taken-by"), m.taken_by, local_time(&m.taken_at, offset)));
    let urgent = if m.urgency == "high" { format!("[{}] ", t("urgency-high")) } else { String::new() };
    let message = app::mail::Message {
        to: vec![to.clone()],
        subject: format!("{urgent}{}: {}", t("memo-mail-subject"), m.caller),
        text: lines.join("\n") + "\n",
        ..Default::default()
    };
    let error = match mailer.send(&message).await {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    };
    if ag::memo_mailed(&st.app, &m.id, error.as_deref()).await.is_ok() {
        taken.memo.emailed_at = error.is_none().then(app::clock::now_text);
        taken.memo.delivery_error = error;
    }
}

/// `2026-03-10T13:00:00.000000Z` in the business's local time: `2026-03-10 10:00`.
pub fn local_time(utc: &str, offset: time::UtcOffset) -> String {
    match app::clock::parse(utc) {
        Some(t) => {
            let t = t.to_offset(offset);
            format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
        }
        None => utc.to_string(),
    }
}

async fn memo_create_h(State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<MemoIn>) -> Result<(StatusCode, Json<Memo>), ApiError> {
    let mut taken = ag::take_memo(&st.app, &a.actor, &i).await.map_err(fail(&st, &a))?;
    mail_memo(&st, &mut taken).await;
    Ok(created(taken.memo))
}

async fn memos_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<MemoParams>) -> ApiResult<Page<Memo>> {
    ag::list_memos(&st.app, &a.actor, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn memo_read_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Memo> {
    ag::read_memo(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn directory_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<DirectoryParams>) -> ApiResult<Page<DirectoryEntry>> {
    ag::directory(&st.app, &a.actor, &p).await.map(Json).map_err(fail(&st, &a))
}

/// Sends the reminders that are due, each in its owner's language (the server's minute
/// job); without a mail server, nothing (they stay in the application).
pub async fn send_reminders(st: &AppState) -> app::AppResult<usize> {
    let Some(mailer) = &st.mailer else { return Ok(0) };
    let offset = ag::local_offset(&st.app).await?;
    let compose = |r: &ag::ReminderMail| {
        let t = |k: &str| st.i18n.t(&r.locale, k);
        let when = local_time(&r.starts_at, offset);
        let mut lines =
            vec![format!("{} · {}", t(&format!("activity-kind-{}", r.kind)), r.subject), format!("{}: {when}", t("field-starts-at"))];
        if let Some(d) = r.duration_minutes.filter(|d| *d > 0) {
            lines.push(format!("{}: {d}", t("field-duration-minutes")));
        }
        if let Some(c) = &r.customer_name {
            lines.push(format!("{}: {c}", t("field-customer")));
        }
        if let Some(n) = &r.notes {
            lines.push(String::new());
            lines.push(n.clone());
        }
        (format!("{}: {} ({when})", t("reminder-mail-subject"), r.subject), lines.join("\n") + "\n")
    };
    ag::send_reminders(&st.app, mailer, &compose).await
}

pub fn router(r: axum::Router<AppState>) -> Router<AppState> {
    r.route("/activities", get(activities_h).post(activity_create_h))
        .route("/activities/due-reminders", get(due_h))
        .route("/activities/{id}", get(activity_get_h).patch(activity_update_h))
        .route("/activities/{id}/done", post(done_h))
        .route("/activities/{id}/undone", post(undone_h))
        .route("/users/me", get(me_h))
        .route("/users/me/calendar-feed", post(feed_new_h))
        .route("/calendar/{file}", get(feed_h))
        .route("/memos", get(memos_h).post(memo_create_h))
        .route("/memos/{id}/read", post(memo_read_h))
        .route("/directory", get(directory_h))
}
