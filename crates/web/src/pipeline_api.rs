//! The sales pipeline API: stages, leads (and their conversion into a customer and an
//! opportunity), opportunities moving through the stages, a quote made from an
//! opportunity, and conversion rates.

use crate::api::ApiActor;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::sales_api::{created, fail, OptJson};
use crate::AppState;
use app::master::Page;
use app::pipeline::{
    self as p, Conversion, ConvertIn, Converted, Lead, LeadIn, LeadParams, Opportunity, OpportunityIn, OpportunityParams, Stage,
};
use app::sales::{Document, DocumentIn};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

type ApiResult<T> = Result<Json<T>, ApiError>;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stages {
    pub items: Vec<Stage>,
}

async fn stages_h(State(st): State<AppState>, a: ApiActor) -> ApiResult<Stages> {
    p::stages(&st.app, &a.actor).await.map(|items| Json(Stages { items })).map_err(fail(&st, &a))
}

async fn leads_h(State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<LeadParams>) -> ApiResult<Page<Lead>> {
    p::list_leads(&st.app, &a.actor, &q).await.map(Json).map_err(fail(&st, &a))
}

async fn lead_create_h(State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<LeadIn>) -> Result<(StatusCode, Json<Lead>), ApiError> {
    p::save_lead(&st.app, &a.actor, None, &i).await.map(created).map_err(fail(&st, &a))
}

async fn lead_get_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Lead> {
    p::get_lead(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn lead_update_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>, ApiJson(i): ApiJson<LeadIn>) -> ApiResult<Lead> {
    p::save_lead(&st.app, &a.actor, Some(&id), &i).await.map(Json).map_err(fail(&st, &a))
}

async fn convert_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    OptJson(i): OptJson<ConvertIn>,
) -> Result<(StatusCode, Json<Converted>), ApiError> {
    p::convert_lead(&st.app, &a.actor, &id, &i).await.map(created).map_err(fail(&st, &a))
}

async fn opportunities_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiQuery(q): ApiQuery<OpportunityParams>,
) -> ApiResult<Page<Opportunity>> {
    p::list_opportunities(&st.app, &a.actor, &q).await.map(Json).map_err(fail(&st, &a))
}

async fn opportunity_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<OpportunityIn>,
) -> Result<(StatusCode, Json<Opportunity>), ApiError> {
    p::save_opportunity(&st.app, &a.actor, None, &i).await.map(created).map_err(fail(&st, &a))
}

async fn opportunity_get_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Opportunity> {
    p::get_opportunity(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn opportunity_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<OpportunityIn>,
) -> ApiResult<Opportunity> {
    p::save_opportunity(&st.app, &a.actor, Some(&id), &i).await.map(Json).map_err(fail(&st, &a))
}

async fn quote_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    OptJson(i): OptJson<DocumentIn>,
) -> Result<(StatusCode, Json<Document>), ApiError> {
    p::quote_from_opportunity(&st.app, &a.actor, &id, &i).await.map(created).map_err(fail(&st, &a))
}

async fn conversion_h(State(st): State<AppState>, a: ApiActor) -> ApiResult<Conversion> {
    p::conversion(&st.app, &a.actor).await.map(Json).map_err(fail(&st, &a))
}

pub fn router(r: Router<AppState>) -> Router<AppState> {
    r.route("/pipeline-stages", get(stages_h))
        .route("/leads", get(leads_h).post(lead_create_h))
        .route("/leads/{id}", get(lead_get_h).patch(lead_update_h))
        .route("/leads/{id}/convert", post(convert_h))
        .route("/opportunities", get(opportunities_h).post(opportunity_create_h))
        .route("/opportunities/{id}", get(opportunity_get_h).patch(opportunity_update_h))
        .route("/opportunities/{id}/quote", post(quote_h))
        .route("/stats/pipeline", get(conversion_h))
}
