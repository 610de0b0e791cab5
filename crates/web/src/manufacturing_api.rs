//! The manufacturing API: bills of materials and their cost roll-up, production orders
//! and their life (`POST …/{id}/plan|reserve|produce|cancel`), shortages, reorder rules
//! and replenishment suggestions.

use crate::api::ApiActor;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::sales_api::{created, fail};
use crate::AppState;
use app::manufacturing::{
    self as mf, Bom, BomIn, BomParams, CostRollup, ProductionIn, ProductionOrder, ProductionParams, ReorderRule, ReorderRuleIn,
    RollupParams, RuleParams, Shortages, Suggestions,
};
use app::master::Page;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::manufacturing::Action;

type ApiResult<T> = Result<Json<T>, ApiError>;

async fn boms_h(State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<BomParams>) -> ApiResult<Page<Bom>> {
    mf::list_boms(&st.app, &a.actor, &q).await.map(Json).map_err(fail(&st, &a))
}

async fn bom_save_h(State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<BomIn>) -> Result<(StatusCode, Json<Bom>), ApiError> {
    mf::save_bom(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn bom_get_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Bom> {
    mf::get_bom(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn bom_delete_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    mf::delete_bom(&st.app, &a.actor, &id).await.map(|()| StatusCode::NO_CONTENT).map_err(fail(&st, &a))
}

async fn rollup_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RollupParams>,
) -> ApiResult<CostRollup> {
    mf::cost_rollup(&st.app, &a.actor, &id, &q).await.map(Json).map_err(fail(&st, &a))
}

async fn orders_h(State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<ProductionParams>) -> ApiResult<Page<ProductionOrder>> {
    mf::list_orders(&st.app, &a.actor, &q).await.map(Json).map_err(fail(&st, &a))
}

async fn order_create_h(
    State(st): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<ProductionIn>,
) -> Result<(StatusCode, Json<ProductionOrder>), ApiError> {
    mf::create_order(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn order_get_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<ProductionOrder> {
    mf::get_order(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn act(st: AppState, a: ApiActor, id: String, action: Action) -> ApiResult<ProductionOrder> {
    mf::act(&st.app, &a.actor, &id, action).await.map(Json).map_err(fail(&st, &a))
}

async fn plan_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<ProductionOrder> {
    act(st, a, id, Action::Plan).await
}

async fn reserve_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<ProductionOrder> {
    act(st, a, id, Action::Reserve).await
}

async fn produce_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<ProductionOrder> {
    act(st, a, id, Action::Produce).await
}

async fn cancel_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<ProductionOrder> {
    act(st, a, id, Action::Cancel).await
}

async fn shortages_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<Shortages> {
    mf::shortages(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn rules_h(State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<RuleParams>) -> ApiResult<Page<ReorderRule>> {
    mf::list_rules(&st.app, &a.actor, &q).await.map(Json).map_err(fail(&st, &a))
}

async fn rule_set_h(State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<ReorderRuleIn>) -> ApiResult<ReorderRule> {
    mf::set_rule(&st.app, &a.actor, &i).await.map(Json).map_err(fail(&st, &a))
}

async fn replenishment_h(State(st): State<AppState>, a: ApiActor) -> ApiResult<Suggestions> {
    mf::replenishment(&st.app, &a.actor).await.map(Json).map_err(fail(&st, &a))
}

pub fn router(r: Router<AppState>) -> Router<AppState> {
    r.route("/boms", get(boms_h).post(bom_save_h))
        .route("/boms/{id}", get(bom_get_h).delete(bom_delete_h))
        .route("/products/{id}/cost-rollup", get(rollup_h))
        .route("/production-orders", get(orders_h).post(order_create_h))
        .route("/production-orders/{id}", get(order_get_h))
        .route("/production-orders/{id}/shortages", get(shortages_h))
        .route("/production-orders/{id}/plan", post(plan_h))
        .route("/production-orders/{id}/reserve", post(reserve_h))
        .route("/production-orders/{id}/produce", post(produce_h))
        .route("/production-orders/{id}/cancel", post(cancel_h))
        .route("/reorder-rules", get(rules_h).put(rule_set_h))
        .route("/replenishment", get(replenishment_h))
}

#[cfg(test)]
mod tests {
    /// Every refusal and field error the manufacturing use cases give has its message in
    /// both languages (the catalogue answers the key itself when one is missing).
    #[test]
    fn every_manufacturing_key_is_translated() {
        let c = crate::i18n::Catalog::load();
        for key in [
            "bom-empty",
            "bom-too-many",
            "bom-self",
            "bom-duplicate",
            "bom-cycle",
            "bom-scrap-invalid",
            "bom-not-manufactured",
            "bom-in-use",
            "production-no-bom",
            "production-done",
            "production-cancelled",
            "production-transition-invalid",
            "production-not-open",
            "quantity-not-positive",
            "stock-insufficient",
            "product-not-stocked",
            "warehouse-unknown",
            "status-invalid",
            "date-invalid",
        ] {
            for locale in ["es", "en"] {
                assert_ne!(c.t(locale, key), key, "{key} has no {locale} message");
            }
        }
    }
}
