//! The REST API, `/api/v1`. Every master-data kind has the same five operations
//! (`GET` list with `q`/`limit`/`cursor`, `POST`, `GET /{id}`, `PATCH /{id}`, `DELETE /{id}`
//! which archives), served by one set of generic handlers over the `Crud` trait.

use crate::error::{locale_of, ApiError, ApiJson, ApiQuery};
use crate::AppState;
use app::auth::{self, User, UserInput};
use app::master::{self as m, ListParams, Page, PartyRole};
use app::{Actor, App, AppError, AppResult};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use domain::access::Resource;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::Future;

/// The caller of the API, identified by `Authorization: Bearer TOKEN`.
pub struct ApiActor {
    pub actor: Actor,
    pub locale: &'static str,
}

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let locale = locale_of(parts);
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() < 200);
        let Some(token) = token else {
            return Err(ApiError::from_app(AppError::Unauthenticated, &state.i18n, locale));
        };
        match auth::token_actor(&state.app, token).await {
            Ok(Some(actor)) => Ok(ApiActor { actor, locale }),
            Ok(None) => Err(ApiError::from_app(AppError::Unauthenticated, &state.i18n, locale)),
            Err(e) => Err(ApiError::from_app(e, &state.i18n, locale)),
        }
    }
}

impl ApiActor {
    fn fail(&self, s: &AppState) -> impl Fn(AppError) -> ApiError + '_ {
        let i18n = s.i18n.clone();
        move |e| ApiError::from_app(e, &i18n, self.locale)
    }
}

/// One kind of master data as the API serves it.
pub trait Crud: Send + Sync + 'static {
    /// The path under `/api/v1`, e.g. `/customers`.
    const PATH: &'static str;
    const TAG: &'static str;
    /// The record kind in the audit trail.
    const ENTITY: &'static str;
    const RESOURCE: Resource;
    /// Fields a new record must have (documented in the OpenAPI create body).
    const REQUIRED: &'static [&'static str];
    type In: DeserializeOwned + Send + utoipa::ToSchema + 'static;
    type Out: Serialize + Send + utoipa::ToSchema + 'static;
    fn list(app: &App, a: &Actor, p: &ListParams) -> impl Future<Output = AppResult<Page<Self::Out>>> + Send;
    fn get(app: &App, a: &Actor, id: &str) -> impl Future<Output = AppResult<Self::Out>> + Send;
    fn create(app: &App, a: &Actor, input: &Self::In) -> impl Future<Output = AppResult<Self::Out>> + Send;
    fn update(app: &App, a: &Actor, id: &str, input: &Self::In) -> impl Future<Output = AppResult<Self::Out>> + Send;
    fn archive(app: &App, a: &Actor, id: &str) -> impl Future<Output = AppResult<Self::Out>> + Send;
}

pub struct Customers;
pub struct Suppliers;
pub struct Contacts;
pub struct Salespeople;
pub struct Products;
pub struct TaxRates;
pub struct Users;

macro_rules! party_crud {
    ($t:ty, $path:literal, $tag:literal, $role:expr, $res:expr) => {
        impl Crud for $t {
            const PATH: &'static str = $path;
            const TAG: &'static str = $tag;
            const ENTITY: &'static str = "party";
            const RESOURCE: Resource = $res;
            const REQUIRED: &'static [&'static str] = &["name"];
            type In = m::PartyIn;
            type Out = m::Party;
            async fn list(app: &App, a: &Actor, p: &ListParams) -> AppResult<Page<m::Party>> {
                m::list_parties(app, a, $role, p).await
            }
            async fn get(app: &App, a: &Actor, id: &str) -> AppResult<m::Party> {
                m::get_party(app, a, $role, id).await
            }
            async fn create(app: &App, a: &Actor, i: &m::PartyIn) -> AppResult<m::Party> {
                m::create_party(app, a, $role, i).await
            }
            async fn update(app: &App, a: &Actor, id: &str, i: &m::PartyIn) -> AppResult<m::Party> {
                m::update_party(app, a, $role, id, i).await
            }
            async fn archive(app: &App, a: &Actor, id: &str) -> AppResult<m::Party> {
                m::archive_party(app, a, $role, id).await
            }
        }
    };
}
party_crud!(Customers, "/customers", "customers", PartyRole::Customer, Resource::Customers);
party_crud!(Suppliers, "/suppliers", "suppliers", PartyRole::Supplier, Resource::Suppliers);

impl Crud for Contacts {
    const PATH: &'static str = "/contacts";
    const TAG: &'static str = "contacts";
    const ENTITY: &'static str = "contact";
    const RESOURCE: Resource = Resource::Contacts;
    const REQUIRED: &'static [&'static str] = &["party_id", "name"];
    type In = m::ContactIn;
    type Out = m::Contact;
    async fn list(app: &App, a: &Actor, p: &ListParams) -> AppResult<Page<m::Contact>> {
        m::list_contacts(app, a, p, p.party_id.as_deref()).await
    }
    async fn get(app: &App, a: &Actor, id: &str) -> AppResult<m::Contact> {
        m::get_contact(app, a, id).await
    }
    async fn create(app: &App, a: &Actor, i: &m::ContactIn) -> AppResult<m::Contact> {
        m::create_contact(app, a, i).await
    }
    async fn update(app: &App, a: &Actor, id: &str, i: &m::ContactIn) -> AppResult<m::Contact> {
        m::update_contact(app, a, id, i).await
    }
    async fn archive(app: &App, a: &Actor, id: &str) -> AppResult<m::Contact> {
        m::update_contact(app, a, id, &m::ContactIn { archived: Some(true), ..Default::default() }).await
    }
}

impl Crud for Salespeople {
    const PATH: &'static str = "/salespeople";
    const TAG: &'static str = "salespeople";
    const ENTITY: &'static str = "employee";
    const RESOURCE: Resource = Resource::Salespeople;
    const REQUIRED: &'static [&'static str] = &["name"];
    type In = m::SalespersonIn;
    type Out = m::Salesperson;
    async fn list(app: &App, a: &Actor, p: &ListParams) -> AppResult<Page<m::Salesperson>> {
        m::list_salespeople(app, a, p).await
    }
    async fn get(app: &App, a: &Actor, id: &str) -> AppResult<m::Salesperson> {
        m::get_salesperson(app, a, id).await
    }
    async fn create(app: &App, a: &Actor, i: &m::SalespersonIn) -> AppResult<m::Salesperson> {
        m::save_salesperson(app, a, None, i).await
    }
    async fn update(app: &App, a: &Actor, id: &str, i: &m::SalespersonIn) -> AppResult<m::Salesperson> {
        m::save_salesperson(app, a, Some(id), i).await
    }
    async fn archive(app: &App, a: &Actor, id: &str) -> AppResult<m::Salesperson> {
        m::save_salesperson(app, a, Some(id), &m::SalespersonIn { archived: Some(true), ..Default::default() }).await
    }
}

impl Crud for Products {
    const PATH: &'static str = "/products";
    const TAG: &'static str = "products";
    const ENTITY: &'static str = "product";
    const RESOURCE: Resource = Resource::Products;
    const REQUIRED: &'static [&'static str] = &["code", "name"];
    type In = m::ProductIn;
    type Out = m::Product;
    async fn list(app: &App, a: &Actor, p: &ListParams) -> AppResult<Page<m::Product>> {
        m::list_products(app, a, p).await
    }
    async fn get(app: &App, a: &Actor, id: &str) -> AppResult<m::Product> {
        m::get_product(app, a, id).await
    }
    async fn create(app: &App, a: &Actor, i: &m::ProductIn) -> AppResult<m::Product> {
        m::save_product(app, a, None, i).await
    }
    async fn update(app: &App, a: &Actor, id: &str, i: &m::ProductIn) -> AppResult<m::Product> {
        m::save_product(app, a, Some(id), i).await
    }
    async fn archive(app: &App, a: &Actor, id: &str) -> AppResult<m::Product> {
        m::save_product(app, a, Some(id), &m::ProductIn { archived: Some(true), ..Default::default() }).await
    }
}

/// Tax rates are few: the list is one page, filtered in memory.
impl Crud for TaxRates {
    const PATH: &'static str = "/tax-rates";
    const TAG: &'static str = "tax-rates";
    const ENTITY: &'static str = "tax_rate";
    const RESOURCE: Resource = Resource::TaxRates;
    const REQUIRED: &'static [&'static str] = &["name", "rate"];
    type In = m::TaxRateIn;
    type Out = m::TaxRate;
    async fn list(app: &App, a: &Actor, p: &ListParams) -> AppResult<Page<m::TaxRate>> {
        m::page_size(p)?;
        let q = domain::text::fold(p.q.as_deref().unwrap_or(""));
        let items = m::list_tax_rates(app, a, p.archived.unwrap_or(false)).await?;
        Ok(Page { items: items.into_iter().filter(|t| domain::text::fold(&t.name).contains(&q)).collect(), next_cursor: None })
    }
    async fn get(app: &App, a: &Actor, id: &str) -> AppResult<m::TaxRate> {
        m::get_tax_rate(app, a, id).await
    }
    async fn create(app: &App, a: &Actor, i: &m::TaxRateIn) -> AppResult<m::TaxRate> {
        m::save_tax_rate(app, a, None, i).await
    }
    async fn update(app: &App, a: &Actor, id: &str, i: &m::TaxRateIn) -> AppResult<m::TaxRate> {
        m::save_tax_rate(app, a, Some(id), i).await
    }
    async fn archive(app: &App, a: &Actor, id: &str) -> AppResult<m::TaxRate> {
        m::save_tax_rate(app, a, Some(id), &m::TaxRateIn { archived: Some(true), ..Default::default() }).await
    }
}

/// Users are few: the list is one page; `DELETE` deactivates (users are never deleted:
/// the audit trail names them).
impl Crud for Users {
    const PATH: &'static str = "/users";
    const TAG: &'static str = "users";
    const ENTITY: &'static str = "user";
    const RESOURCE: Resource = Resource::Users;
    const REQUIRED: &'static [&'static str] = &["username", "password", "role"];
    type In = UserInput;
    type Out = User;
    async fn list(app: &App, a: &Actor, p: &ListParams) -> AppResult<Page<User>> {
        m::page_size(p)?;
        let q = domain::text::fold(p.q.as_deref().unwrap_or(""));
        let items = auth::list_users(app, a).await?;
        let items = items
            .into_iter()
            .filter(|u| domain::text::fold(&format!("{} {}", u.username, u.display_name)).contains(&q))
            .filter(|u| u.active || p.archived.unwrap_or(false))
            .collect();
        Ok(Page { items, next_cursor: None })
    }
    async fn get(app: &App, a: &Actor, id: &str) -> AppResult<User> {
        auth::get_user(app, a, &app::parse_id(id)?).await
    }
    async fn create(app: &App, a: &Actor, i: &UserInput) -> AppResult<User> {
        auth::create_user(app, a, i).await
    }
    async fn update(app: &App, a: &Actor, id: &str, i: &UserInput) -> AppResult<User> {
        auth::update_user(app, a, &app::parse_id(id)?, i).await
    }
    async fn archive(app: &App, a: &Actor, id: &str) -> AppResult<User> {
        auth::update_user(app, a, &app::parse_id(id)?, &UserInput { active: Some(false), ..Default::default() }).await
    }
}

async fn list_h<C: Crud>(
    State(s): State<AppState>,
    a: ApiActor,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<Page<C::Out>>, ApiError> {
    C::list(&s.app, &a.actor, &p).await.map(Json).map_err(a.fail(&s))
}

async fn get_h<C: Crud>(State(s): State<AppState>, a: ApiActor, Path(id): Path<String>) -> Result<Json<C::Out>, ApiError> {
    C::get(&s.app, &a.actor, &id).await.map(Json).map_err(a.fail(&s))
}

async fn create_h<C: Crud>(
    State(s): State<AppState>,
    a: ApiActor,
    ApiJson(i): ApiJson<C::In>,
) -> Result<(StatusCode, Json<C::Out>), ApiError> {
    C::create(&s.app, &a.actor, &i).await.map(|o| (StatusCode::CREATED, Json(o))).map_err(a.fail(&s))
}

async fn update_h<C: Crud>(
    State(s): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<C::In>,
) -> Result<Json<C::Out>, ApiError> {
    C::update(&s.app, &a.actor, &id, &i).await.map(Json).map_err(a.fail(&s))
}

async fn archive_h<C: Crud>(State(s): State<AppState>, a: ApiActor, Path(id): Path<String>) -> Result<Json<C::Out>, ApiError> {
    C::archive(&s.app, &a.actor, &id).await.map(Json).map_err(a.fail(&s))
}

async fn history_h<C: Crud>(
    State(s): State<AppState>,
    a: ApiActor,
    Path(id): Path<String>,
) -> Result<Json<Vec<app::audit::HistoryEntry>>, ApiError> {
    let id = app::parse_id(&id).map_err(a.fail(&s))?;
    // Reading the record first makes an unknown id a 404 and checks it is of this kind.
    C::get(&s.app, &a.actor, &id).await.map_err(a.fail(&s))?;
    app::audit::history(&s.app, &a.actor, C::RESOURCE, C::ENTITY, &id).await.map(Json).map_err(a.fail(&s))
}

fn crud<C: Crud>(r: Router<AppState>) -> Router<AppState> {
    r.route(C::PATH, get(list_h::<C>).post(create_h::<C>))
        .route(&format!("{}/{{id}}", C::PATH), get(get_h::<C>).patch(update_h::<C>).delete(archive_h::<C>))
        .route(&format!("{}/{{id}}/history", C::PATH), get(history_h::<C>))
}

async fn company_h(State(s): State<AppState>, a: ApiActor) -> Result<Json<m::Company>, ApiError> {
    m::company(&s.app, &a.actor).await.map(Json).map_err(a.fail(&s))
}

async fn company_update_h(State(s): State<AppState>, a: ApiActor, ApiJson(i): ApiJson<m::CompanyIn>) -> Result<Json<m::Company>, ApiError> {
    m::update_company(&s.app, &a.actor, &i).await.map(Json).map_err(a.fail(&s))
}

async fn logo_get_h(State(s): State<AppState>, a: ApiActor) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    match app::logo::get(&s.app, &a.actor).await.map_err(a.fail(&s))? {
        Some((content_type, bytes)) => Ok(([(axum::http::header::CONTENT_TYPE, content_type)], bytes).into_response()),
        None => Err(a.fail(&s)(AppError::NotFound)),
    }
}

/// The body is the image itself (PNG or JPEG, at most 1 MiB), told by its bytes.
async fn logo_put_h(State(s): State<AppState>, a: ApiActor, body: axum::body::Bytes) -> Result<StatusCode, ApiError> {
    app::logo::set(&s.app, &a.actor, &body).await.map_err(a.fail(&s))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn logo_delete_h(State(s): State<AppState>, a: ApiActor) -> Result<StatusCode, ApiError> {
    app::logo::remove(&s.app, &a.actor).await.map_err(a.fail(&s))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for: a name fragment, a code, a tax id, an e-mail or a phone.
    pub q: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    pub items: Vec<m::SearchHit>,
}

async fn search_h(State(s): State<AppState>, a: ApiActor, ApiQuery(p): ApiQuery<SearchParams>) -> Result<Json<SearchResult>, ApiError> {
    let items = m::search(&s.app, &a.actor, p.q.as_deref().unwrap_or("")).await.map_err(a.fail(&s))?;
    Ok(Json(SearchResult { items }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub locale: String,
}

async fn me_h(a: ApiActor) -> Json<Me> {
    Json(Me {
        username: a.actor.username,
        display_name: a.actor.display_name,
        role: a.actor.role.code().to_string(),
        locale: a.actor.locale,
    })
}

async fn not_found(parts: Parts, State(s): State<AppState>) -> ApiError {
    ApiError::from_app(AppError::NotFound, &s.i18n, locale_of(&parts))
}

pub fn router() -> Router<AppState> {
    let mut r = Router::new()
        .route("/company", get(company_h).patch(company_update_h))
        .route("/company/logo", get(logo_get_h).put(logo_put_h).delete(logo_delete_h))
        .route("/search", get(search_h))
        .route("/me", get(me_h))
        .route("/openapi.json", get(crate::openapi::json))
        .route("/docs", get(crate::openapi::docs));
    r = crud::<Customers>(r);
    r = crud::<Suppliers>(r);
    r = crud::<Contacts>(r);
    r = crud::<Salespeople>(r);
    r = crud::<Products>(r);
    r = crud::<TaxRates>(r);
    r = crud::<Users>(r);
    r = crate::sales_api::router(r);
    r = crate::crm_api::router(r);
    r = crate::pipeline_api::router(r);
    r = crate::agenda_api::router(r);
    r = crate::manufacturing_api::router(r);
    r = crate::purchasing_api::router(r);
    r = crate::stock_api::router(r);
    r = crate::analytics_api::router(r);
    r.fallback(not_found)
}
