//! The API's one error type: every failure becomes
//! `{"error": {"code", "message", "fields"}}` with the right status; internal details
//! are logged, never sent.

use crate::i18n::Catalog;
use crate::AppState;
use app::AppError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code: unauthenticated, forbidden, not_found, validation_failed,
    /// conflict, refused, throttled, bad_request, unsupported_media_type, internal.
    pub code: String,
    /// A sentence for people, in the language of `Accept-Language` (Spanish by default).
    pub message: String,
    /// Per-field messages, when the input had invalid fields.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), fields: BTreeMap::new() }
    }

    /// Translates an application error for a reader of `locale`.
    pub fn from_app(e: AppError, i18n: &Catalog, locale: &str) -> Self {
        let t = |k: &str| i18n.t(locale, k);
        match e {
            AppError::Unauthenticated => Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", t("error-unauthenticated")),
            AppError::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", t("error-forbidden")),
            AppError::NotFound => Self::new(StatusCode::NOT_FOUND, "not_found", t("error-not-found")),
            AppError::Conflict => Self::new(StatusCode::CONFLICT, "conflict", t("error-conflict")),
            AppError::Throttled => Self::new(StatusCode::TOO_MANY_REQUESTS, "throttled", t("error-throttled")),
            AppError::Refused(key) => Self::new(StatusCode::CONFLICT, "refused", t(key)),
            AppError::Invalid(fields) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "validation_failed",
                message: t("error-validation"),
                fields: fields.0.into_iter().map(|(f, k)| (f, t(&k))).collect(),
            },
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", t("error-internal"))
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code.to_string(), message: self.message, fields: self.fields } };
        (self.status, axum::Json(body)).into_response()
    }
}

/// The locale of an API caller, from `Accept-Language`.
pub fn locale_of(parts: &Parts) -> &'static str {
    crate::i18n::from_accept_language(parts.headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

/// JSON body whose rejections are API errors: malformed JSON → 400, wrong content type →
/// 415, wrong shape or types or unknown fields → 422. Every body of this API is a JSON
/// object: an array is refused even where serde could read a struct from one
/// (`[null, null]` is not `{"a": null, "b": null}`).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let locale =
            crate::i18n::from_accept_language(req.headers().get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
        let fail = |status, code, key: &str, detail: String| {
            let mut message = format!("{}: {detail}", state.i18n.t(locale, key));
            message.truncate(500);
            ApiError::new(status, code, message)
        };
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .is_some_and(|m| m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")));
        if !is_json {
            return Err(fail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "error-json-content-type",
                "Content-Type: application/json".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| fail(StatusCode::BAD_REQUEST, "bad_request", "error-json-syntax", e.body_text()))?;
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {}
            None => return Err(fail(StatusCode::BAD_REQUEST, "bad_request", "error-json-syntax", "empty body".into())),
            Some(_) if serde_json::from_slice::<serde_json::Value>(&bytes).is_err() => {
                return Err(fail(StatusCode::BAD_REQUEST, "bad_request", "error-json-syntax", "not JSON".into()))
            }
            Some(_) => {
                return Err(fail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "error-json-shape",
                    "expected a JSON object".into(),
                ))
            }
        }
        serde_json::from_slice::<T>(&bytes).map(ApiJson).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Data => fail(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "error-json-shape", e.to_string()),
                _ => fail(StatusCode::BAD_REQUEST, "bad_request", "error-json-syntax", e.to_string()),
            }
        })
    }
}

/// Query string whose rejections are API errors (400).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => {
                let rejection: QueryRejection = rejection;
                let message = format!("{}: {}", state.i18n.t(locale_of(parts), "error-query"), rejection.body_text());
                Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message))
            }
        }
    }
}
