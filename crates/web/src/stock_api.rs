//! The warehouse API: transfers between warehouses and stock counts (drafts by `POST` and
//! `PATCH`, `POST …/{id}/done|cancel`), and the stock valuation.

use crate::api::ApiActor;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::sales_api::{created, fail};
use crate::AppState;
use app::master::Page;
use app::stock_docs::{self as sd, CountIn, Kind, StockDocParams, StockDocument, TransferIn, Valuation, ValuationParams};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::stock::DocAction;

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

/// Where each kind lives in the API.
pub const PATHS: [(Kind, &str); 2] = [(Kind::Transfer, "/transfers"), (Kind::Count, "/stock-counts")];

async fn list(st: AppState, a: ApiActor, kind: Kind, q: StockDocParams) -> ApiResult<Page<StockDocument>> {
    sd::list(&st.app, &a.actor, kind, &q).await.map(Json).map_err(fail(&st, &a))
}

async fn one(st: AppState, a: ApiActor, kind: Kind, id: String) -> ApiResult<StockDocument> {
    sd::get(&st.app, &a.actor, kind, &id).await.map(Json).map_err(fail(&st, &a))
}

async fn act(st: AppState, a: ApiActor, kind: Kind, id: String, action: DocAction) -> ApiResult<StockDocument> {
    sd::act(&st.app, &a.actor, kind, &id, action).await.map(Json).map_err(fail(&st, &a))
}

async fn transfers_h(State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<StockDocParams>) -> ApiResult<Page<StockDocument>> {
    list(st, a, Kind::Transfer, q).await
}

async fn transfer_create_h(State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<TransferIn>) -> Created<StockDocument> {
    sd::create_transfer(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn transfer_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<StockDocument> {
    one(st, a, Kind::Transfer, id).await
}

async fn transfer_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<TransferIn>,
) -> ApiResult<StockDocument> {
    sd::update_transfer(&st.app, &a.actor, &id, &i).await.map(Json).map_err(fail(&st, &a))
}

async fn transfer_done_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<StockDocument> {
    act(st, a, Kind::Transfer, id, DocAction::Done).await
}

async fn transfer_cancel_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<StockDocument> {
    act(st, a, Kind::Transfer, id, DocAction::Cancel).await
}

async fn counts_h(State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<StockDocParams>) -> ApiResult<Page<StockDocument>> {
    list(st, a, Kind::Count, q).await
}

async fn count_create_h(State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<CountIn>) -> Created<StockDocument> {
    sd::create_count(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn count_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<StockDocument> {
    one(st, a, Kind::Count, id).await
}

async fn count_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<CountIn>,
) -> ApiResult<StockDocument> {
    sd::update_count(&st.app, &a.actor, &id, &i).await.map(Json).map_err(fail(&st, &a))
}

async fn count_done_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<StockDocument> {
    act(st, a, Kind::Count, id, DocAction::Done).await
}

async fn count_cancel_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<StockDocument> {
    act(st, a, Kind::Count, id, DocAction::Cancel).await
}

async fn valuation_h(State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<ValuationParams>) -> ApiResult<Valuation> {
    sd::valuation(&st.app, &a.actor, &q).await.map(Json).map_err(fail(&st, &a))
}

pub fn router(r: Router<AppState>) -> Router<AppState> {
    r.route("/transfers", get(transfers_h).post(transfer_create_h))
        .route("/transfers/{id}", get(transfer_h).patch(transfer_update_h))
        .route("/transfers/{id}/done", post(transfer_done_h))
        .route("/transfers/{id}/cancel", post(transfer_cancel_h))
        .route("/stock-counts", get(counts_h).post(count_create_h))
        .route("/stock-counts/{id}", get(count_h).patch(count_update_h))
        .route("/stock-counts/{id}/done", post(count_done_h))
        .route("/stock-counts/{id}/cancel", post(count_cancel_h))
        .route("/stock/valuation", get(valuation_h))
}

#[cfg(test)]
mod tests {
    /// Every refusal and field error of transfers and counts has its message in both
    /// languages (the catalogue answers the key itself when one is missing).
    #[test]
    fn every_stock_document_key_is_translated() {
        let c = crate::i18n::Catalog::load();
        for key in [
            "stock-doc-done",
            "stock-doc-cancelled",
            "stock-doc-empty",
            "stock-doc-too-many",
            "stock-line-duplicate",
            "transfer-same-warehouse",
            "stock-insufficient",
            "product-archived",
            "product-not-stocked",
            "warehouse-unknown",
            "move-transfer_out",
            "move-transfer_in",
            "move-count",
            "move-production",
            "move-consumption",
            "move-reception",
        ] {
            for locale in ["es", "en"] {
                assert_ne!(c.t(locale, key), key, "{key} has no {locale} message");
            }
        }
    }
}
