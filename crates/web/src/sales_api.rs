//! The order-to-cash API: quotes, orders, deliveries, invoices, credit and debit notes,
//! receipts, warehouses, stock and receivables. Each kind of document has the same list,
//! read, create and change operations; its life moves through `POST …/{id}/{action}`.

use crate::api::ApiActor;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::AppState;
use app::master::Page;
use app::receivables::{self as ar, Ageing, AgeingParams, Statement};
use app::sales::{self as s, DocListParams, Document, DocumentIn, PartIn, ReceiptIn, TransitionIn};
use app::stock::{self as st, AdjustmentIn, StockLevel, StockMove, StockParams, Warehouse, WarehouseIn};
use app::AppError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::sales::{DocKind, Transition};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The kinds of document, their paths, and what each one's life allows through the API.
pub struct KindRoute {
    pub kind: DocKind,
    pub path: &'static str,
    /// Documents made directly with `POST` (deliveries come from orders; receipts have
    /// their own body).
    pub creatable: bool,
    pub transitions: &'static [(&'static str, Transition)],
}

pub const KINDS: &[KindRoute] = &[
    KindRoute {
        kind: DocKind::Quote,
        path: "/quotes",
        creatable: true,
        transitions: &[("send", Transition::Send), ("reject", Transition::Reject), ("cancel", Transition::Cancel)],
    },
    KindRoute {
        kind: DocKind::Order,
        path: "/orders",
        creatable: true,
        transitions: &[("confirm", Transition::Confirm), ("close", Transition::Close), ("cancel", Transition::Cancel)],
    },
    KindRoute { kind: DocKind::Delivery, path: "/deliveries", creatable: false, transitions: &[] },
    KindRoute {
        kind: DocKind::Invoice,
        path: "/invoices",
        creatable: true,
        transitions: &[("post", Transition::Post), ("cancel", Transition::Cancel)],
    },
    KindRoute {
        kind: DocKind::CreditNote,
        path: "/credit-notes",
        creatable: true,
        transitions: &[("post", Transition::Post), ("cancel", Transition::Cancel)],
    },
    KindRoute {
        kind: DocKind::DebitNote,
        path: "/debit-notes",
        creatable: true,
        transitions: &[("post", Transition::Post), ("cancel", Transition::Cancel)],
    },
    KindRoute { kind: DocKind::Receipt, path: "/receipts", creatable: false, transitions: &[] },
];

/// A JSON body that may be left out (then `T::default()`): actions such as
/// `POST /orders/{id}/confirm` need no body, but take options when given.
pub struct OptJson<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let has_body = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_none_or(|n| n > 0);
        let json_type = req.headers().get(axum::http::header::CONTENT_TYPE).is_some();
        if !has_body || !json_type {
            // No body, or a body without a content type: a bare POST.
            let bytes = Bytes::from_request(req, state).await.unwrap_or_default();
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptJson(T::default()));
            }
            return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Content-Type: application/json"));
        }
        ApiJson::<T>::from_request(req, state).await.map(|ApiJson(v)| OptJson(v))
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn fail(s: &AppState, a: &ApiActor) -> impl Fn(AppError) -> ApiError {
    let i18n = s.i18n.clone();
    let locale = a.locale;
    move |e| ApiError::from_app(e, &i18n, locale)
}

pub(crate) fn created<T: Serialize>(v: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(v))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Levels {
    pub items: Vec<StockLevel>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Warehouses {
    pub items: Vec<Warehouse>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Chain {
    pub items: Vec<Document>,
}

fn kind_routes(mut r: Router<AppState>, k: &'static KindRoute) -> Router<AppState> {
    let kind = k.kind;
    let one = format!("{}/{{id}}", k.path);
    let list = move |State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<DocListParams>| async move {
        s::list_documents(&st.app, &a.actor, kind, &p).await.map(Json).map_err(fail(&st, &a))
    };
    let get_one = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>| async move {
        s::get_document(&st.app, &a.actor, kind, &id).await.map(Json).map_err(fail(&st, &a))
    };
    let history = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>| async move {
        let f = fail(&st, &a);
        let doc = s::get_document(&st.app, &a.actor, kind, &id).await.map_err(&f)?;
        app::audit::history(&st.app, &a.actor, s::resource(kind), kind.code(), &doc.id).await.map(Json).map_err(f)
    };
    r = if k.creatable {
        let create = move |State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<DocumentIn>| async move {
            s::create_document(&st.app, &a.actor, kind, &i).await.map(created).map_err(fail(&st, &a))
        };
        let update = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>, ApiJson(i): ApiJson<DocumentIn>| async move {
            s::update_document(&st.app, &a.actor, kind, &id, &i).await.map(Json).map_err(fail(&st, &a))
        };
        r.route(k.path, get(list).post(create)).route(&one, get(get_one).patch(update))
    } else if kind == DocKind::Receipt {
        let create = |State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<ReceiptIn>| async move {
            s::create_receipt(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
        };
        r.route(k.path, get(list).post(create)).route(&one, get(get_one))
    } else {
        r.route(k.path, get(list)).route(&one, get(get_one))
    };
    r = r.route(&format!("{one}/history"), get(history));
    let pdf = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>| async move {
        let (name, bytes) = crate::printing::document_pdf(&st, &a.actor, a.locale, kind, &id).await.map_err(fail(&st, &a))?;
        Ok::<_, ApiError>(crate::printing::pdf_response(&name, bytes))
    };
    let email = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>, OptJson(i): OptJson<s::EmailIn>| async move {
        crate::printing::email_document(&st, &a.actor, a.locale, kind, &id, &i).await.map(Json).map_err(fail(&st, &a))
    };
    r = r.route(&format!("{one}/pdf"), get(pdf)).route(&format!("{one}/email"), post(email));
    for (name, t) in k.transitions {
        let t = *t;
        let act = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>, OptJson(i): OptJson<TransitionIn>| async move {
            s::transition(&st.app, &a.actor, kind, &id, t, &i).await.map(Json).map_err(fail(&st, &a))
        };
        r = r.route(&format!("{one}/{name}"), post(act));
    }
    r
}

async fn convert_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> Result<(StatusCode, Json<Document>), ApiError> {
    s::convert_quote(&st.app, &a.actor, &id).await.map(created).map_err(fail(&st, &a))
}

async fn deliver_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    OptJson(i): OptJson<PartIn>,
) -> Result<(StatusCode, Json<Document>), ApiError> {
    s::deliver_order(&st.app, &a.actor, &id, &i).await.map(created).map_err(fail(&st, &a))
}

async fn invoice_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    OptJson(i): OptJson<PartIn>,
) -> Result<(StatusCode, Json<Document>), ApiError> {
    s::invoice_order(&st.app, &a.actor, &id, &i).await.map(created).map_err(fail(&st, &a))
}

async fn credit_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    OptJson(i): OptJson<PartIn>,
) -> Result<(StatusCode, Json<Document>), ApiError> {
    s::credit_invoice(&st.app, &a.actor, &id, &i).await.map(created).map_err(fail(&st, &a))
}

async fn chain_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Chain> {
    s::order_chain(&st.app, &a.actor, &id).await.map(|items| Json(Chain { items })).map_err(fail(&st, &a))
}

async fn warehouses_h(State(st): State<AppState>, a: ApiActor) -> ApiResult<Warehouses> {
    st::list_warehouses(&st.app, &a.actor).await.map(|items| Json(Warehouses { items })).map_err(fail(&st, &a))
}

async fn warehouse_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<WarehouseIn>,
) -> Result<(StatusCode, Json<Warehouse>), ApiError> {
    st::save_warehouse(&st.app, &a.actor, None, &i).await.map(created).map_err(fail(&st, &a))
}

async fn warehouse_get_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Warehouse> {
    st::get_warehouse(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn warehouse_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<WarehouseIn>,
) -> ApiResult<Warehouse> {
    st::save_warehouse(&st.app, &a.actor, Some(&id), &i).await.map(Json).map_err(fail(&st, &a))
}

async fn stock_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<StockParams>) -> ApiResult<Levels> {
    st::levels(&st.app, &a.actor, &p).await.map(|items| Json(Levels { items })).map_err(fail(&st, &a))
}

async fn adjust_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<AdjustmentIn>,
) -> Result<(StatusCode, Json<StockMove>), ApiError> {
    st::adjust(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn card_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<StockParams>) -> ApiResult<Page<StockMove>> {
    st::card(&st.app, &a.actor, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn ageing_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<AgeingParams>) -> ApiResult<Ageing> {
    ar::ageing(&st.app, &a.actor, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn statement_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<AgeingParams>,
) -> ApiResult<Statement> {
    ar::statement(&st.app, &a.actor, &id, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn statement_pdf_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> Result<axum::response::Response, ApiError> {
    let (name, bytes) = crate::printing::statement_pdf(&st, &a.actor, a.locale, &id).await.map_err(fail(&st, &a))?;
    Ok(crate::printing::pdf_response(&name, bytes))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    /// Sales (untaxed) from `from` to `to`.
    pub current: String,
    /// Sales (untaxed) in the same number of days just before.
    pub previous: String,
}

async fn stats_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(by): Path<String>,
    ApiQuery(p): ApiQuery<app::stats::StatsParams>,
) -> ApiResult<app::stats::Stats> {
    let f = fail(&st, &a);
    let r = match by.as_str() {
        "by-period" => app::stats::by_period(&st.app, &a.actor, &p).await,
        "by-customer" => app::stats::by_customer(&st.app, &a.actor, &p).await,
        "by-article" => app::stats::by_article(&st.app, &a.actor, &p).await,
        "by-salesperson" => app::stats::by_salesperson(&st.app, &a.actor, &p).await,
        _ => Err(AppError::NotFound),
    };
    r.map(Json).map_err(f)
}

async fn logistics_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiQuery(p): ApiQuery<app::stats::StatsParams>,
) -> ApiResult<app::indicators::Logistics> {
    app::indicators::logistics(&st.app, &a.actor, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn cohorts_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiQuery(p): ApiQuery<app::stats::StatsParams>,
) -> ApiResult<app::indicators::Cohorts> {
    app::indicators::cohorts(&st.app, &a.actor, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn retention_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiQuery(p): ApiQuery<app::stats::StatsParams>,
) -> ApiResult<app::indicators::Retention> {
    app::indicators::retention(&st.app, &a.actor, &p).await.map(Json).map_err(fail(&st, &a))
}

async fn compare_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<app::stats::StatsParams>) -> ApiResult<Comparison> {
    app::stats::compare(&st.app, &a.actor, &p)
        .await
        .map(|(current, previous)| Json(Comparison { current, previous }))
        .map_err(fail(&st, &a))
}

async fn settings_h(State(st): State<AppState>, a: ApiActor) -> ApiResult<st::SalesSettings> {
    st::settings(&st.app, &a.actor).await.map(Json).map_err(fail(&st, &a))
}

async fn settings_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<st::SalesSettingsIn>,
) -> ApiResult<st::SalesSettings> {
    st::update_settings(&st.app, &a.actor, &i).await.map(Json).map_err(fail(&st, &a))
}

pub fn router(mut r: Router<AppState>) -> Router<AppState> {
    for k in KINDS {
        r = kind_routes(r, k);
    }
    r.route("/quotes/{id}/convert", post(convert_h))
        .route("/orders/{id}/deliver", post(deliver_h))
        .route("/orders/{id}/invoice", post(invoice_h))
        .route("/orders/{id}/chain", get(chain_h))
        .route("/invoices/{id}/credit", post(credit_h))
        .route("/warehouses", get(warehouses_h).post(warehouse_create_h))
        .route("/warehouses/{id}", get(warehouse_get_h).patch(warehouse_update_h))
        .route("/stock", get(stock_h))
        .route("/stock/adjustments", post(adjust_h))
        .route("/stock/card", get(card_h))
        .route("/receivables/ageing", get(ageing_h))
        .route("/customers/{id}/statement", get(statement_h))
        .route("/customers/{id}/statement/pdf", get(statement_pdf_h))
        .route("/stats/sales/compare", get(compare_h))
        .route("/stats/logistics", get(logistics_h))
        .route("/stats/cohorts", get(cohorts_h))
        .route("/stats/retention", get(retention_h))
        .route("/settings/sales", get(settings_h).patch(settings_update_h))
        .route("/stats/sales/{by}", get(stats_h))
}
