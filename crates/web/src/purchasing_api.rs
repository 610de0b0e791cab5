//! The purchase-to-pay API: purchase orders, receptions, supplier invoices, supplier
//! payments and what the business owes. Each kind has the same list and read operations;
//! its life moves through `POST …/{id}/{action}`, and an order's receptions and invoices
//! are made from it (`POST /purchase-orders/{id}/receive`, `…/invoice`).

use crate::api::ApiActor;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::sales_api::{created, fail, OptJson};
use crate::AppState;
use app::purchasing::{
    self as p, PayablesAgeing, PayablesParams, PaymentRun, PaymentRunParams, PurchaseDocument, PurchaseListParams, PurchaseOrderIn,
    ReceiveIn, SupplierAccount, SupplierInvoiceIn, SupplierPaymentIn,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::purchase::PurchaseKind;
use domain::sales::Transition;
use serde::Serialize;

/// The kinds of purchasing document, their paths and the transitions the API offers.
pub struct PurchaseRoute {
    pub kind: PurchaseKind,
    pub path: &'static str,
    pub transitions: &'static [(&'static str, Transition, &'static str)],
    /// Printed as a PDF (`GET …/{id}/pdf`).
    pub printable: bool,
}

pub const PURCHASE_KINDS: &[PurchaseRoute] = &[
    PurchaseRoute {
        kind: PurchaseKind::PurchaseOrder,
        path: "/purchase-orders",
        transitions: &[
            ("confirm", Transition::Confirm, "Send to the supplier: takes its number"),
            ("close", Transition::Close, "Close: nothing more will be received"),
            ("cancel", Transition::Cancel, "Cancel an order nothing was received of"),
        ],
        printable: true,
    },
    PurchaseRoute { kind: PurchaseKind::Reception, path: "/receptions", transitions: &[], printable: true },
    PurchaseRoute {
        kind: PurchaseKind::SupplierInvoice,
        path: "/supplier-invoices",
        transitions: &[
            ("post", Transition::Post, "Post: number, due date, what is owed"),
            ("cancel", Transition::Cancel, "Cancel a draft, or a posted invoice nothing was paid of"),
        ],
        printable: false,
    },
    PurchaseRoute { kind: PurchaseKind::SupplierPayment, path: "/supplier-payments", transitions: &[], printable: false },
];

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PurchaseChain {
    /// The order first, then its receptions, supplier invoices and payments.
    pub items: Vec<PurchaseDocument>,
}

fn kind_routes(mut r: Router<AppState>, k: &'static PurchaseRoute) -> Router<AppState> {
    let kind = k.kind;
    let one = format!("{}/{{id}}", k.path);
    let list = move |State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<PurchaseListParams>| async move {
        p::list(&st.app, &a.actor, kind, &q).await.map(Json).map_err(fail(&st, &a))
    };
    let get_one = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>| async move {
        p::get(&st.app, &a.actor, kind, &id).await.map(Json).map_err(fail(&st, &a))
    };
    let history = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>| async move {
        let f = fail(&st, &a);
        let doc = p::get(&st.app, &a.actor, kind, &id).await.map_err(&f)?;
        app::audit::history(&st.app, &a.actor, p::resource(kind), kind.code(), &doc.id).await.map(Json).map_err(f)
    };
    r = match kind {
        PurchaseKind::PurchaseOrder => r
            .route(k.path, get(list).post(order_create_h))
            .route(&one, get(get_one).patch(order_update_h))
            .route(&format!("{one}/receive"), post(receive_h))
            .route(&format!("{one}/invoice"), post(invoice_h))
            .route(&format!("{one}/chain"), get(chain_h))
            .route(&format!("{one}/email"), post(email_h)),
        PurchaseKind::SupplierPayment => r.route(k.path, get(list).post(payment_create_h)).route(&one, get(get_one)),
        _ => r.route(k.path, get(list)).route(&one, get(get_one)),
    };
    r = r.route(&format!("{one}/history"), get(history));
    if k.printable {
        let pdf = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>| async move {
            let (name, bytes) = crate::printing::purchase_pdf(&st, &a.actor, a.locale, kind, &id).await.map_err(fail(&st, &a))?;
            Ok::<_, ApiError>(crate::printing::pdf_response(&name, bytes))
        };
        r = r.route(&format!("{one}/pdf"), get(pdf));
    }
    for (name, t, _) in k.transitions {
        let t = *t;
        let act = move |State(st): State<AppState>, a: ApiActor, Path(id): Path<String>| async move {
            p::transition(&st.app, &a.actor, kind, &id, t).await.map(Json).map_err(fail(&st, &a))
        };
        r = r.route(&format!("{one}/{name}"), post(act));
    }
    r
}

async fn order_create_h(State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<PurchaseOrderIn>) -> Created<PurchaseDocument> {
    p::create_order(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn order_update_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<PurchaseOrderIn>,
) -> ApiResult<PurchaseDocument> {
    p::update_order(&st.app, &a.actor, &id, &i).await.map(Json).map_err(fail(&st, &a))
}

async fn receive_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    OptJson(i): OptJson<ReceiveIn>,
) -> Created<PurchaseDocument> {
    p::receive(&st.app, &a.actor, &id, &i).await.map(created).map_err(fail(&st, &a))
}

async fn invoice_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<SupplierInvoiceIn>,
) -> Created<PurchaseDocument> {
    p::invoice_order(&st.app, &a.actor, &id, &i).await.map(created).map_err(fail(&st, &a))
}

async fn email_h(
    State(st): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    OptJson(i): OptJson<app::sales::EmailIn>,
) -> ApiResult<app::sales::EmailSent> {
    crate::printing::email_purchase_order(&st, &a.actor, a.locale, &id, &i).await.map(Json).map_err(fail(&st, &a))
}

async fn chain_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<PurchaseChain> {
    p::chain(&st.app, &a.actor, &id).await.map(|items| Json(PurchaseChain { items })).map_err(fail(&st, &a))
}

async fn payment_create_h(State(st): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<SupplierPaymentIn>) -> Created<PurchaseDocument> {
    p::create_payment(&st.app, &a.actor, &i).await.map(created).map_err(fail(&st, &a))
}

async fn ageing_h(State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<PayablesParams>) -> ApiResult<PayablesAgeing> {
    p::ageing(&st.app, &a.actor, &q).await.map(Json).map_err(fail(&st, &a))
}

async fn payment_run_h(State(st): State<AppState>, a: ApiActor, ApiQuery(q): ApiQuery<PaymentRunParams>) -> ApiResult<PaymentRun> {
    p::payment_run(&st.app, &a.actor, &q).await.map(Json).map_err(fail(&st, &a))
}

async fn account_h(State(st): State<AppState>, a: ApiActor, Path(id): Path<String>) -> ApiResult<SupplierAccount> {
    p::account(&st.app, &a.actor, &id).await.map(Json).map_err(fail(&st, &a))
}

pub fn router(mut r: Router<AppState>) -> Router<AppState> {
    for k in PURCHASE_KINDS {
        r = kind_routes(r, k);
    }
    r.route("/payables/ageing", get(ageing_h))
        .route("/payables/payment-run", get(payment_run_h))
        .route("/suppliers/{id}/account", get(account_h))
}
