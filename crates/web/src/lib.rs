//! Tendero over HTTP: the REST API under `/api/v1` (documented by OpenAPI) and the
//! server-rendered pages. Handlers parse, call one use case from `app`, and render.

pub mod agenda_api;
pub mod analytics_api;
pub mod api;
pub mod crm_api;
pub mod error;
pub mod i18n;
pub mod manufacturing_api;
pub mod openapi;
pub mod pages;
pub mod pipeline_api;
pub mod printing;
pub mod purchasing_api;
pub mod sales_api;
pub mod stock_api;

use app::App;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub i18n: Arc<i18n::Catalog>,
    /// Mark cookies `Secure` (when served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Lays out printed documents (fonts loaded once).
    pub printer: Arc<print::Printer>,
    /// Sends e-mail, when an SMTP server is configured.
    pub mailer: Option<app::mail::Mailer>,
}

impl AppState {
    pub fn new(app: App, secure_cookies: bool) -> AppState {
        AppState { app, i18n: i18n::Catalog::load(), secure_cookies, printer: Arc::new(print::Printer::new(None)), mailer: None }
    }

    /// Printed documents use the business's own templates from `dir` when it has them.
    pub fn with_templates(mut self, dir: Option<std::path::PathBuf>) -> AppState {
        self.printer = Arc::new(print::Printer::new(dir));
        self
    }

    pub fn with_mailer(mut self, mailer: Option<app::mail::Mailer>) -> AppState {
        self.mailer = mailer;
        self
    }
}

async fn healthz(axum::extract::State(s): axum::extract::State<AppState>) -> (axum::http::StatusCode, &'static str) {
    match s.app.db.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok"),
        Err(_) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api::router())
        .merge(pages::router())
        // Spreadsheet uploads can be large; axum's own 2 MiB default would refuse them.
        .layer(axum::extract::DefaultBodyLimit::max(20 * 1024 * 1024))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(20 * 1024 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
