//! The analytics API: RFM, CLV, cohorts, conversion, logistic and service indicators and the
//! headline figures, each as JSON or, with `?format=csv|xlsx`, as a file; and the on-demand
//! recomputation of the customer figures.

use crate::api::ApiActor;
use crate::error::{ApiError, ApiQuery};
use crate::sales_api::fail;
use crate::AppState;
use app::analytics::{self as an, CustomerParams, Models};
use app::transfer::{ExportFormat, Sheet};
use axum::extract::State;
use axum::http::header::{self, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

type ApiResult = Result<Response, ApiError>;

/// The `format` of a report that takes other parameters of its own.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParam {
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

/// JSON, or the report's table as a file named after it and today.
async fn answer<T: serde::Serialize>(
    st: &AppState,
    a: &ApiActor,
    name: &str,
    format: Option<ExportFormat>,
    value: T,
    sheet: impl FnOnce(&T) -> Sheet,
) -> ApiResult {
    let Some(format) = format else {
        return Ok(Json(value).into_response());
    };
    let bytes = an::download(&st.app, &sheet(&value), format).await.map_err(fail(st, a))?;
    Ok(file(name, format, bytes))
}

pub(crate) fn file(name: &str, format: ExportFormat, bytes: Vec<u8>) -> Response {
    let (ext, mime) = match format {
        ExportFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        ExportFormat::Xlsx => ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    };
    let day = app::clock::now_text().get(..10).unwrap_or("export").to_string();
    let disposition = format!("attachment; filename=\"tendero-{name}-{day}.{ext}\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or_else(|_| HeaderValue::from_static("attachment"))),
        ],
        bytes,
    )
        .into_response()
}

/// A report delegated to another module: the reader must see analytics, and the format
/// must be known.
fn reader(st: &AppState, a: &ApiActor, format: Option<&str>) -> Result<Option<ExportFormat>, ApiError> {
    a.actor.authorize(domain::access::Action::Read, domain::access::Resource::Analytics).map_err(fail(st, a))?;
    an::file_format(format).map_err(fail(st, a))
}

async fn rfm_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<CustomerParams>) -> ApiResult {
    let format = an::file_format(p.format.as_deref()).map_err(fail(&st, &a))?;
    if format.is_some() {
        let items = an::all_customers(&st.app, &a.actor, &p).await.map_err(fail(&st, &a))?;
        return answer(&st, &a, "rfm", format, items, |i| an::rfm_sheet(i)).await;
    }
    let r = an::rfm(&st.app, &a.actor, &p).await.map_err(fail(&st, &a))?;
    Ok(Json(r).into_response())
}

async fn clv_h(State(st): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<CustomerParams>) -> ApiResult {
    let format = an::file_format(p.format.as_deref()).map_err(fail(&st, &a))?;
    if format.is_some() {
        let items = an::all_customers(&st.app, &a.actor, &p).await.map_err(fail(&st, &a))?;
        return answer(&st, &a, "clv", format, items, |i| an::clv_sheet(i)).await;
    }
    let r = an::clv(&st.app, &a.actor, &p).await.map_err(fail(&st, &a))?;
    Ok(Json(r).into_response())
}

async fn cohorts_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiQuery(p): ApiQuery<app::stats::StatsParams>,
    ApiQuery(f): ApiQuery<FormatParam>,
) -> ApiResult {
    let format = reader(&st, &a, f.format.as_deref())?;
    let r = app::indicators::cohorts(&st.app, &a.actor, &p).await.map_err(fail(&st, &a))?;
    answer(&st, &a, "cohorts", format, r, an::cohorts_sheet).await
}

async fn conversion_h(State(st): State<AppState>, a: ApiActor, ApiQuery(f): ApiQuery<FormatParam>) -> ApiResult {
    let format = reader(&st, &a, f.format.as_deref())?;
    let r = app::pipeline::conversion(&st.app, &a.actor).await.map_err(fail(&st, &a))?;
    answer(&st, &a, "conversion", format, r, an::conversion_sheet).await
}

async fn logistics_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiQuery(p): ApiQuery<app::stats::StatsParams>,
    ApiQuery(f): ApiQuery<FormatParam>,
) -> ApiResult {
    let format = reader(&st, &a, f.format.as_deref())?;
    let r = app::indicators::logistics(&st.app, &a.actor, &p).await.map_err(fail(&st, &a))?;
    answer(&st, &a, "logistics", format, r, an::logistics_sheet).await
}

async fn service_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiQuery(p): ApiQuery<app::desk::ComplianceParams>,
    ApiQuery(f): ApiQuery<FormatParam>,
) -> ApiResult {
    let format = an::file_format(f.format.as_deref()).map_err(fail(&st, &a))?;
    let r = an::service(&st.app, &a.actor, &p).await.map_err(fail(&st, &a))?;
    answer(&st, &a, "service", format, r, an::service_sheet).await
}

async fn kpis_h(State(st): State<AppState>, a: ApiActor, ApiQuery(f): ApiQuery<FormatParam>) -> ApiResult {
    let format = an::file_format(f.format.as_deref()).map_err(fail(&st, &a))?;
    let r = an::kpis(&st.app, &a.actor).await.map_err(fail(&st, &a))?;
    answer(&st, &a, "kpis", format, r, an::kpis_sheet).await
}

async fn models_h(State(st): State<AppState>, a: ApiActor) -> Result<Json<Models>, ApiError> {
    an::models(&st.app, &a.actor).await.map(Json).map_err(fail(&st, &a))
}

async fn refresh_h(State(st): State<AppState>, a: ApiActor) -> Result<Json<Models>, ApiError> {
    an::refresh(&st.app, &a.actor).await.map(Json).map_err(fail(&st, &a))
}

pub fn router(r: Router<AppState>) -> Router<AppState> {
    r.route("/analytics", get(models_h))
        .route("/analytics/refresh", post(refresh_h))
        .route("/analytics/rfm", get(rfm_h))
        .route("/analytics/clv", get(clv_h))
        .route("/analytics/cohorts", get(cohorts_h))
        .route("/analytics/conversion", get(conversion_h))
        .route("/analytics/logistics", get(logistics_h))
        .route("/analytics/service", get(service_h))
        .route("/kpis", get(kpis_h))
}
