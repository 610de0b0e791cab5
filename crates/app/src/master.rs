//! Master data: customers and suppliers (parties), contacts, salespeople and employees,
//! tax rates, articles and the company's profile; lists with search and keyset pages;
//! the global search box.

use crate::{audit, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use base64::Engine;
use domain::access::{Action, Resource};
use domain::money::{format_scaled, format_trimmed, PERCENT_SCALE};
use domain::party::{self, ContactInput, EmployeeInput, PartyInput};
use domain::product::{self, ProductInput, TaxRateInput};
use domain::taxid::TaxScheme;
use domain::text::fold;
use domain::validation::{self as v, FieldErrors};
use serde::{Deserialize, Serialize};
use store::master::{self as rows, CompanyRow, ContactRow, EmployeeRow, ListQuery, PartyRow, ProductRow, Record, TaxRateRow};
use store::Conn;
use utoipa::{IntoParams, ToSchema};

/// A page of a list and the cursor of the next one (`null` on the last page).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words to search for (name, code, tax id, e-mail, phone), accents and case ignored.
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Include archived records.
    pub archived: Option<bool>,
    /// Contacts only: those of this customer or supplier.
    pub party_id: Option<String>,
    /// Customers only: prospect, active or inactive.
    pub lifecycle: Option<String>,
}

/// The page size asked for: 1–200, 50 when not given.
pub fn page_size(params: &ListParams) -> AppResult<i64> {
    page_limit(params.limit)
}

/// A list's page size: 1–200, 50 when not given.
pub(crate) fn page_limit(asked: Option<i64>) -> AppResult<i64> {
    let mut errors = FieldErrors::new();
    let limit = page_limit_into(&mut errors, asked);
    errors.into_result(limit).map_err(AppError::Invalid)
}

/// The same, its problem added to the other fields' problems.
pub(crate) fn page_limit_into(errors: &mut FieldErrors, asked: Option<i64>) -> i64 {
    let limit = asked.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        errors.add("limit", "limit-invalid");
    }
    limit
}

/// A status filter, checked by `known` (which gives its code), and a keyset cursor (the
/// last id seen): the two filters of the newest-first lists of documents.
pub(crate) fn status_and_cursor(
    errors: &mut FieldErrors,
    status: Option<&str>,
    known: impl Fn(&str) -> Option<&'static str>,
    cursor: Option<&str>,
) -> (Option<&'static str>, Option<String>) {
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => known(s).or_else(|| {
            errors.add("status", "status-invalid");
            None
        }),
        None => None,
    };
    let before = match cursor.map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => crate::parse_id(c).map_err(|_| errors.add("cursor", "id-invalid")).ok(),
        None => None,
    };
    (status, before)
}

/// Cuts a page read with one row too many to `limit` rows: the cursor of the next page
/// (the key of the last row kept) when there is one.
pub(crate) fn cut_page<T>(found: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(key)
    } else {
        None
    }
}

pub(crate) fn encode_cursor(name_norm: &str, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{name_norm}\u{1f}{id}"))
}

pub(crate) fn decode_cursor(c: &str) -> AppResult<(String, String)> {
    let bad = || AppError::Invalid(FieldErrors::single("cursor", "cursor-invalid"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.split_once('\u{1f}').map(|(a, b)| (a.to_string(), b.to_string())).ok_or_else(bad)
}

/// Search words: folded, and for each word that has digits also its alphanumeric core, so
/// that `20-12345678-6` finds `20123456786` and `4555 1234` finds `4555-1234`.
pub(crate) fn search_words(q: Option<&str>) -> Vec<String> {
    let folded = fold(q.unwrap_or(""));
    folded
        .split_whitespace()
        .take(8)
        .map(|w| if w.chars().any(|c| c.is_ascii_digit()) { w.chars().filter(|c| c.is_alphanumeric()).collect() } else { w.to_string() })
        .filter(|w: &String| !w.is_empty())
        .collect()
}

/// What a search matches for a record: folded names plus codes, tax ids, e-mails and phone
/// numbers both as written and as bare digits.
pub(crate) fn search_text(parts: &[Option<&str>]) -> String {
    let mut out = String::new();
    for p in parts.iter().flatten() {
        let f = fold(p);
        out.push_str(&f);
        out.push(' ');
        if f.chars().any(|c| c.is_ascii_digit()) {
            out.extend(f.chars().filter(|c| c.is_alphanumeric()));
            out.push(' ');
        }
    }
    out
}

async fn page<T: Record, O>(
    conn: &mut Conn,
    params: &ListParams,
    filter: Option<&'static str>,
    filter_value: Option<String>,
    key: impl Fn(&T) -> (String, String),
    map: impl Fn(T) -> O,
) -> AppResult<Page<O>> {
    let limit = page_size(params)?;
    let after = params.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
    let q = ListQuery {
        words: search_words(params.q.as_deref()),
        filter,
        filter_value,
        include_archived: params.archived.unwrap_or(false),
        after,
        limit,
    };
    let mut found = rows::list::<T>(conn, &q).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|r| {
            let (n, i) = key(r);
            encode_cursor(&n, &i)
        })
    } else {
        None
    };
    Ok(Page { items: found.into_iter().map(map).collect(), next_cursor })
}

async fn commit(tx: store::Tx) -> AppResult<()> {
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

// ---------------------------------------------------------------- company

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
pub struct Company {
    pub legal_name: String,
    pub trade_name: Option<String>,
    /// Tax id scheme code: ar_cuit, co_nit, cl_rut, mx_rfc, es_nif or other.
    pub tax_scheme: String,
    pub tax_id: Option<String>,
    /// ISO 3166-1 alpha-2; decides the default tax id scheme.
    pub country: String,
    /// ISO 4217 (ARS, COP, CLP, MXN, EUR…).
    pub currency: String,
    pub currency_decimals: i64,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub history: Option<String>,
    pub mission: Option<String>,
    pub vision: Option<String>,
    pub goals: Option<String>,
    pub products_text: Option<String>,
    pub services_text: Option<String>,
    pub guarantees: Option<String>,
    pub partners: Option<String>,
    pub suppliers_text: Option<String>,
    pub clients_text: Option<String>,
    pub updated_at: String,
}

impl Company {
    pub fn scheme(&self) -> TaxScheme {
        TaxScheme::from_code(&self.tax_scheme).unwrap_or_else(|| TaxScheme::for_country(&self.country))
    }
    pub fn decimals(&self) -> u32 {
        u32::try_from(self.currency_decimals).unwrap_or(2)
    }
}

fn company_of(r: CompanyRow) -> Company {
    Company {
        legal_name: r.legal_name,
        trade_name: r.trade_name,
        tax_scheme: r.tax_scheme,
        tax_id: r.tax_id,
        country: r.country,
        currency: r.currency,
        currency_decimals: r.currency_decimals,
        street: r.street,
        city: r.city,
        region: r.region,
        postal_code: r.postal_code,
        phone: r.phone,
        email: r.email,
        website: r.website,
        history: r.history,
        mission: r.mission,
        vision: r.vision,
        goals: r.goals,
        products_text: r.products_text,
        services_text: r.services_text,
        guarantees: r.guarantees,
        partners: r.partners,
        suppliers_text: r.suppliers_text,
        clients_text: r.clients_text,
        updated_at: r.updated_at,
    }
}

/// Until the company is described, Tendero assumes an Argentine business in pesos.
fn default_company() -> Company {
    Company {
        legal_name: "Mi empresa".into(),
        tax_scheme: "ar_cuit".into(),
        country: "AR".into(),
        currency: "ARS".into(),
        currency_decimals: 2,
        ..Default::default()
    }
}

pub(crate) async fn company_in(conn: &mut Conn) -> AppResult<Company> {
    Ok(rows::get_company(conn).await?.map(company_of).unwrap_or_else(default_company))
}

pub async fn company(app: &App, actor: &Actor) -> AppResult<Company> {
    actor.authorize(Action::Read, Resource::Company)?;
    let mut conn = app.db.reader().await?;
    company_in(&mut conn).await
}

/// Changes to the company's profile; `None` fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyIn {
    pub legal_name: Option<String>,
    pub trade_name: Option<String>,
    pub tax_id: Option<String>,
    pub country: Option<String>,
    pub currency: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub history: Option<String>,
    pub mission: Option<String>,
    pub vision: Option<String>,
    pub goals: Option<String>,
    pub products_text: Option<String>,
    pub services_text: Option<String>,
    pub guarantees: Option<String>,
    pub partners: Option<String>,
    pub suppliers_text: Option<String>,
    pub clients_text: Option<String>,
}

/// Currencies Tendero knows, with their minor-unit decimals (ISO 4217).
pub const CURRENCIES: &[(&str, i64)] = &[
    ("ARS", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("CLP", 0),
    ("COP", 2),
    ("CRC", 2),
    ("DOP", 2),
    ("EUR", 2),
    ("GTQ", 2),
    ("MXN", 2),
    ("PEN", 2),
    ("PYG", 0),
    ("USD", 2),
    ("UYU", 2),
];

pub async fn update_company(app: &App, actor: &Actor, input: &CompanyIn) -> AppResult<Company> {
    actor.authorize(Action::Update, Resource::Company)?;
    let mut tx = app.db.begin().await?;
    let existing = rows::get_company(&mut tx).await?;
    let has_data = rows::any_rows(&mut tx, "products").await?;
    let before = existing.clone().map(company_of).unwrap_or_else(default_company);
    let mut c = before.clone();
    let mut e = FieldErrors::new();
    let text = |e: &mut FieldErrors, f: &str, new: &Option<String>, old: &Option<String>, max| {
        if new.is_some() {
            v::optional(e, f, new.as_deref(), max)
        } else {
            old.clone()
        }
    };
    if input.legal_name.is_some() {
        c.legal_name = v::required(&mut e, "legal_name", input.legal_name.as_deref(), 200);
    }
    if let Some(country) = &input.country {
        let country = country.trim().to_uppercase();
        if country.len() != 2 || !country.chars().all(|ch| ch.is_ascii_alphabetic()) {
            e.add("country", "country-invalid");
        } else {
            c.tax_scheme = TaxScheme::for_country(&country).code().to_string();
            c.country = country;
        }
    }
    if let Some(cur) = &input.currency {
        let cur = cur.trim().to_uppercase();
        match CURRENCIES.iter().find(|(code, _)| *code == cur) {
            Some((code, decimals)) => {
                if *decimals != c.currency_decimals && has_data {
                    e.add("currency", "currency-decimals-locked");
                } else {
                    c.currency = code.to_string();
                    c.currency_decimals = *decimals;
                }
            }
            None => e.add("currency", "currency-invalid"),
        }
    }
    if let Some(t) = input.tax_id.as_deref().map(str::trim) {
        c.tax_id = if t.is_empty() {
            None
        } else {
            match domain::taxid::TaxId::parse(c.scheme(), t) {
                Ok(id) => Some(id.as_str().to_string()),
                Err(err) => {
                    e.add("tax_id", err.key());
                    None
                }
            }
        };
    }
    c.trade_name = text(&mut e, "trade_name", &input.trade_name, &c.trade_name, 200);
    c.street = text(&mut e, "street", &input.street, &c.street, 200);
    c.city = text(&mut e, "city", &input.city, &c.city, 100);
    c.region = text(&mut e, "region", &input.region, &c.region, 100);
    c.postal_code = text(&mut e, "postal_code", &input.postal_code, &c.postal_code, 20);
    c.phone = if input.phone.is_some() { v::phone(&mut e, "phone", input.phone.as_deref()) } else { c.phone };
    c.email = if input.email.is_some() { v::email(&mut e, "email", input.email.as_deref()) } else { c.email };
    c.website = text(&mut e, "website", &input.website, &c.website, 200);
    for (field, new, slot) in [
        ("history", &input.history, &mut c.history),
        ("mission", &input.mission, &mut c.mission),
        ("vision", &input.vision, &mut c.vision),
        ("goals", &input.goals, &mut c.goals),
        ("products_text", &input.products_text, &mut c.products_text),
        ("services_text", &input.services_text, &mut c.services_text),
        ("guarantees", &input.guarantees, &mut c.guarantees),
        ("partners", &input.partners, &mut c.partners),
        ("suppliers_text", &input.suppliers_text, &mut c.suppliers_text),
        ("clients_text", &input.clients_text, &mut c.clients_text),
    ] {
        if new.is_some() {
            *slot = v::optional(&mut e, field, new.as_deref(), 10_000);
        }
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    c.updated_at = clock::now_text();
    let row = CompanyRow {
        id: 1,
        legal_name: c.legal_name.clone(),
        trade_name: c.trade_name.clone(),
        tax_scheme: c.tax_scheme.clone(),
        tax_id: c.tax_id.clone(),
        country: c.country.clone(),
        currency: c.currency.clone(),
        currency_decimals: c.currency_decimals,
        street: c.street.clone(),
        city: c.city.clone(),
        region: c.region.clone(),
        postal_code: c.postal_code.clone(),
        phone: c.phone.clone(),
        email: c.email.clone(),
        website: c.website.clone(),
        logo_path: existing.and_then(|r| r.logo_path),
        history: c.history.clone(),
        mission: c.mission.clone(),
        vision: c.vision.clone(),
        goals: c.goals.clone(),
        products_text: c.products_text.clone(),
        services_text: c.services_text.clone(),
        guarantees: c.guarantees.clone(),
        partners: c.partners.clone(),
        suppliers_text: c.suppliers_text.clone(),
        clients_text: c.clients_text.clone(),
        updated_at: c.updated_at.clone(),
    };
    rows::save_company(&mut tx, &row).await?;
    audit::record(&mut tx, actor, "update", "company", "1", Some(&before), Some(&c)).await?;
    commit(tx).await?;
    Ok(c)
}

// ---------------------------------------------------------------- parties

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyRole {
    Customer,
    Supplier,
}

impl PartyRole {
    pub fn resource(self) -> Resource {
        match self {
            PartyRole::Customer => Resource::Customers,
            PartyRole::Supplier => Resource::Suppliers,
        }
    }
    fn filter(self) -> &'static str {
        match self {
            PartyRole::Customer => "is_customer = 1",
            PartyRole::Supplier => "is_supplier = 1",
        }
    }
    pub fn entity(self) -> &'static str {
        "party"
    }
}

/// A customer or supplier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Party {
    pub id: String,
    pub code: Option<String>,
    pub name: String,
    pub trade_name: Option<String>,
    pub is_customer: bool,
    pub is_supplier: bool,
    pub tax_scheme: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub website: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub payment_terms_days: i64,
    /// Decimal string in the company currency; `null` = no limit.
    #[schema(example = "150000.00")]
    pub credit_limit: Option<String>,
    pub salesperson_id: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    /// prospect, active or inactive.
    pub lifecycle: String,
    pub archived: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

pub(crate) fn party_of(r: PartyRow, decimals: u32) -> Party {
    Party {
        id: r.id,
        code: r.code,
        name: r.name,
        trade_name: r.trade_name,
        is_customer: r.is_customer != 0,
        is_supplier: r.is_supplier != 0,
        tax_scheme: r.tax_scheme,
        tax_id: r.tax_id,
        email: r.email,
        phone: r.phone,
        mobile: r.mobile,
        website: r.website,
        street: r.street,
        city: r.city,
        region: r.region,
        postal_code: r.postal_code,
        country: r.country,
        payment_terms_days: r.payment_terms_days,
        credit_limit: r.credit_limit.map(|c| format_scaled(c, decimals)),
        salesperson_id: r.salesperson_id,
        notes: r.notes,
        tags: r.tags.split(',').filter(|t| !t.is_empty()).map(str::to_string).collect(),
        lifecycle: r.lifecycle,
        archived: r.archived_at.is_some(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    }
}

/// A customer or supplier as typed; in a change (`PATCH`), absent fields stay as they are
/// and an empty string clears a field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyIn {
    pub code: Option<String>,
    pub name: Option<String>,
    pub trade_name: Option<String>,
    pub tax_scheme: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub website: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub payment_terms_days: Option<i64>,
    /// Decimal string, e.g. "150000.00"; empty = no limit.
    pub credit_limit: Option<String>,
    pub salesperson_id: Option<String>,
    pub notes: Option<String>,
    pub tags: Option<Vec<String>>,
    pub is_customer: Option<bool>,
    pub is_supplier: Option<bool>,
    /// `false` restores an archived record.
    pub archived: Option<bool>,
    /// The version read; when given, the change is refused if someone changed it since.
    pub version: Option<i64>,
}

fn party_input(p: &PartyIn, base: Option<&Party>) -> PartyInput {
    let pick = |new: &Option<String>, old: Option<&Option<String>>| new.clone().or_else(|| old.cloned().flatten());
    let b = base;
    PartyInput {
        code: pick(&p.code, b.map(|b| &b.code)),
        name: p.name.clone().or_else(|| b.map(|b| b.name.clone())),
        trade_name: pick(&p.trade_name, b.map(|b| &b.trade_name)),
        tax_scheme: pick(&p.tax_scheme, b.map(|b| &b.tax_scheme)),
        tax_id: pick(&p.tax_id, b.map(|b| &b.tax_id)),
        email: pick(&p.email, b.map(|b| &b.email)),
        phone: pick(&p.phone, b.map(|b| &b.phone)),
        mobile: pick(&p.mobile, b.map(|b| &b.mobile)),
        website: pick(&p.website, b.map(|b| &b.website)),
        street: pick(&p.street, b.map(|b| &b.street)),
        city: pick(&p.city, b.map(|b| &b.city)),
        region: pick(&p.region, b.map(|b| &b.region)),
        postal_code: pick(&p.postal_code, b.map(|b| &b.postal_code)),
        country: pick(&p.country, b.map(|b| &b.country)),
        payment_terms_days: p.payment_terms_days.or_else(|| b.map(|b| b.payment_terms_days)).map(|d| d.to_string()),
        credit_limit: pick(&p.credit_limit, b.map(|b| &b.credit_limit)),
        notes: pick(&p.notes, b.map(|b| &b.notes)),
        tags: p.tags.as_ref().map(|t| t.join(",")).or_else(|| b.map(|b| b.tags.join(","))),
    }
}

async fn check_salesperson(conn: &mut Conn, e: &mut FieldErrors, id: Option<&str>) -> AppResult<Option<String>> {
    let Some(id) = id.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let Ok(id) = parse_id(id) else {
        e.add("salesperson_id", "salesperson-unknown");
        return Ok(None);
    };
    match rows::get::<EmployeeRow>(conn, &id).await? {
        Some(emp) if emp.is_salesperson != 0 && emp.archived_at.is_none() => Ok(Some(id)),
        _ => {
            e.add("salesperson_id", "salesperson-unknown");
            Ok(None)
        }
    }
}

pub async fn list_parties(app: &App, actor: &Actor, role: PartyRole, params: &ListParams) -> AppResult<Page<Party>> {
    actor.authorize(Action::Read, role.resource())?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let lifecycle = params.lifecycle.as_deref().map(str::trim).filter(|l| !l.is_empty() && role == PartyRole::Customer);
    if lifecycle.is_some_and(|l| !crate::crm::LIFECYCLES.contains(&l)) {
        return Err(AppError::Invalid(FieldErrors::single("lifecycle", "value-invalid")));
    }
    let (filter, value) = match lifecycle {
        Some(l) => ("is_customer = 1 AND lifecycle = $?", Some(l.to_string())),
        None => (role.filter(), None),
    };
    page::<PartyRow, _>(&mut conn, params, Some(filter), value, |r| (r.name_norm.clone(), r.id.clone()), |r| party_of(r, d)).await
}

pub async fn get_party(app: &App, actor: &Actor, role: PartyRole, id: &str) -> AppResult<Party> {
    actor.authorize(Action::Read, role.resource())?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let p = rows::get::<PartyRow>(&mut conn, &id).await?.map(|r| party_of(r, d)).ok_or(AppError::NotFound)?;
    let has_role = match role {
        PartyRole::Customer => p.is_customer,
        PartyRole::Supplier => p.is_supplier,
    };
    if has_role {
        Ok(p)
    } else {
        Err(AppError::NotFound)
    }
}

/// Creates a customer or supplier (with `is_customer`/`is_supplier` both may be set).
pub async fn create_party(app: &App, actor: &Actor, role: PartyRole, input: &PartyIn) -> AppResult<Party> {
    let mut tx = app.db.begin().await?;
    let company = company_in(&mut tx).await?;
    let out = create_party_tx(&mut tx, actor, &company, role, input).await?;
    commit(tx).await?;
    Ok(out)
}

/// Creates a party inside the caller's transaction.
pub async fn create_party_tx(tx: &mut Conn, actor: &Actor, company: &Company, role: PartyRole, input: &PartyIn) -> AppResult<Party> {
    let mut e = FieldErrors::new();
    let salesperson_id = check_salesperson(tx, &mut e, input.salesperson_id.as_deref()).await?;
    let row = new_party_row(actor, company, role, input, salesperson_id, e)?;
    rows::insert(tx, &row).await?;
    let out = party_of(row, company.decimals());
    audit::record(tx, actor, "create", "party", &out.id, None::<&Party>, Some(&out)).await?;
    Ok(out)
}

/// The row of a new party, checked as every creation checks it: the permission, the right
/// to set credit terms, then every field. `salesperson_id` is `input.salesperson_id` as
/// [`check_salesperson`] found it, with its problem (if any) in `e`; imports, whose rows
/// name no salesperson, pass `None` and no problem and check the rest without the database.
pub(crate) fn new_party_row(
    actor: &Actor,
    company: &Company,
    role: PartyRole,
    input: &PartyIn,
    salesperson_id: Option<String>,
    mut e: FieldErrors,
) -> AppResult<PartyRow> {
    actor.authorize(Action::Create, role.resource())?;
    if (input.credit_limit.as_deref().is_some_and(|c| !c.trim().is_empty()) || input.payment_terms_days.is_some_and(|d| d != 0))
        && !actor.can(Action::Update, Resource::CreditTerms)
    {
        return Err(AppError::Forbidden);
    }
    let data = match party::validate_party(&party_input(input, None), company.scheme(), company.decimals()) {
        Ok(data) if e.is_empty() => data,
        Ok(_) => return Err(AppError::Invalid(e)),
        Err(invalid) => {
            for (field, key) in &invalid.0 {
                e.add(field, key);
            }
            return Err(AppError::Invalid(e));
        }
    };
    let now = clock::now_text();
    Ok(PartyRow {
        id: new_id(),
        is_customer: i64::from(input.is_customer.unwrap_or(role == PartyRole::Customer)),
        is_supplier: i64::from(input.is_supplier.unwrap_or(role == PartyRole::Supplier)),
        salesperson_id,
        lifecycle: "prospect".into(),
        tier: None,
        archived_at: None,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        ..party_row(data)
    })
}

/// The row fields that come from validated data.
fn party_row(d: party::PartyData) -> PartyRow {
    let tax_scheme = d.tax_id.as_ref().map(|t| t.scheme().code().to_string());
    let tax_id = d.tax_id.map(|t| t.as_str().to_string());
    let search_text = search_text(&[
        Some(&d.name),
        d.trade_name.as_deref(),
        d.code.as_deref(),
        tax_id.as_deref(),
        d.email.as_deref(),
        d.phone.as_deref(),
        d.mobile.as_deref(),
        d.city.as_deref(),
    ]);
    PartyRow {
        id: String::new(),
        code: d.code,
        is_customer: 0,
        is_supplier: 0,
        name_norm: fold(&d.name),
        name: d.name,
        trade_name: d.trade_name,
        tax_scheme,
        tax_id,
        email: d.email,
        phone: d.phone,
        mobile: d.mobile,
        website: d.website,
        street: d.street,
        city: d.city,
        region: d.region,
        postal_code: d.postal_code,
        country: d.country,
        payment_terms_days: d.payment_terms_days,
        credit_limit: d.credit_limit_minor,
        salesperson_id: None,
        notes: d.notes,
        tags: d.tags.join(","),
        lifecycle: String::new(),
        tier: None,
        search_text,
        archived_at: None,
        created_at: String::new(),
        updated_at: String::new(),
        version: 0,
    }
}

pub async fn update_party(app: &App, actor: &Actor, role: PartyRole, id: &str, input: &PartyIn) -> AppResult<Party> {
    let mut tx = app.db.begin().await?;
    let company = company_in(&mut tx).await?;
    let out = update_party_tx(&mut tx, actor, &company, role, id, input).await?;
    commit(tx).await?;
    Ok(out)
}

/// Changes a party inside the caller's transaction.
pub async fn update_party_tx(
    tx: &mut Conn,
    actor: &Actor,
    company: &Company,
    role: PartyRole,
    id: &str,
    input: &PartyIn,
) -> AppResult<Party> {
    actor.authorize(Action::Update, role.resource())?;
    let id = parse_id(id)?;
    let d = company.decimals();
    let old = rows::get::<PartyRow>(tx, &id).await?.ok_or(AppError::NotFound)?;
    let before = party_of(old.clone(), d);
    let in_role = match role {
        PartyRole::Customer => before.is_customer,
        PartyRole::Supplier => before.is_supplier,
    };
    if !in_role {
        return Err(AppError::NotFound);
    }
    if input.version.is_some_and(|v| v != old.version) {
        return Err(AppError::Conflict);
    }
    let data = party::validate_party(&party_input(input, Some(&before)), company.scheme(), d);
    let mut e = data.as_ref().err().cloned().unwrap_or_default();
    let salesperson_id = match &input.salesperson_id {
        Some(s) => check_salesperson(tx, &mut e, Some(s)).await?,
        None => old.salesperson_id.clone(),
    };
    let data = data.map_err(|_| AppError::Invalid(e.clone()))?;
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    if (data.credit_limit_minor != old.credit_limit || data.payment_terms_days != old.payment_terms_days)
        && !actor.can(Action::Update, Resource::CreditTerms)
    {
        return Err(AppError::Forbidden);
    }
    let archived_at = match input.archived {
        Some(false) => None,
        Some(true) => old.archived_at.clone().or_else(|| Some(clock::now_text())),
        None => old.archived_at.clone(),
    };
    let row = PartyRow {
        id: old.id.clone(),
        is_customer: input.is_customer.map(i64::from).unwrap_or(old.is_customer),
        is_supplier: input.is_supplier.map(i64::from).unwrap_or(old.is_supplier),
        salesperson_id,
        lifecycle: old.lifecycle.clone(),
        tier: old.tier.clone(),
        archived_at,
        created_at: old.created_at.clone(),
        updated_at: clock::now_text(),
        version: old.version,
        ..party_row(data)
    };
    if row.is_customer == 0 && row.is_supplier == 0 {
        return Err(AppError::Invalid(FieldErrors::single("is_customer", "party-needs-a-role")));
    }
    rows::update(tx, &row).await?;
    let after = party_of(PartyRow { version: old.version + 1, ..row }, d);
    audit::record(tx, actor, "update", "party", &id, Some(&before), Some(&after)).await?;
    Ok(after)
}

/// The party with this natural key: its tax id (any separators) or, failing that, its code.
pub async fn find_party_tx(
    tx: &mut Conn,
    company: &Company,
    tax_scheme: Option<&str>,
    tax_id: Option<&str>,
    code: Option<&str>,
) -> AppResult<Option<Party>> {
    let d = company.decimals();
    let (tax_id, code) = party_keys(company, tax_scheme, tax_id, code);
    if let Some(t) = tax_id {
        if let Some(r) = rows::find_by::<PartyRow>(tx, "tax_id", &t).await? {
            return Ok(Some(party_of(r, d)));
        }
    }
    if let Some(c) = code {
        if let Some(r) = rows::find_by::<PartyRow>(tx, "code", &c).await? {
            return Ok(Some(party_of(r, d)));
        }
    }
    Ok(None)
}

/// A party's natural keys as stored: the tax id in its canonical form (when it is one) and
/// the code in capitals (when there is one). [`find_party_tx`] looks for the first, then
/// the second.
pub fn party_keys(
    company: &Company,
    tax_scheme: Option<&str>,
    tax_id: Option<&str>,
    code: Option<&str>,
) -> (Option<String>, Option<String>) {
    let scheme = tax_scheme.and_then(TaxScheme::from_code).unwrap_or_else(|| company.scheme());
    let tax_id = tax_id
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .and_then(|t| domain::taxid::TaxId::parse(scheme, t).ok())
        .map(|t| t.as_str().to_string());
    let code = code.map(str::trim).filter(|c| !c.is_empty()).map(str::to_uppercase);
    (tax_id, code)
}

/// The company inside a transaction (imports read it once).
pub async fn company_tx(tx: &mut Conn) -> AppResult<Company> {
    company_in(tx).await
}

/// Archives (never deletes): documents and history keep pointing at the record.
pub async fn archive_party(app: &App, actor: &Actor, role: PartyRole, id: &str) -> AppResult<Party> {
    actor.authorize(Action::Archive, role.resource())?;
    let patch = PartyIn { archived: Some(true), ..Default::default() };
    let elevated = Actor { role: domain::access::Role::Administrator, ..actor.clone() };
    // The archive permission was checked above; the update itself needs no other right.
    update_party(app, &elevated, role, id, &patch).await
}

// ---------------------------------------------------------------- contacts

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub id: String,
    pub party_id: String,
    pub name: String,
    pub job_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub notes: Option<String>,
    pub archived: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

pub(crate) fn contact_of(r: ContactRow) -> Contact {
    Contact {
        id: r.id,
        party_id: r.party_id,
        name: r.name,
        job_title: r.job_title,
        email: r.email,
        phone: r.phone,
        mobile: r.mobile,
        notes: r.notes,
        archived: r.archived_at.is_some(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactIn {
    /// The customer or supplier this person works for (required on create).
    pub party_id: Option<String>,
    pub name: Option<String>,
    pub job_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub notes: Option<String>,
    pub archived: Option<bool>,
    pub version: Option<i64>,
}

pub async fn list_contacts(app: &App, actor: &Actor, params: &ListParams, party_id: Option<&str>) -> AppResult<Page<Contact>> {
    actor.authorize(Action::Read, Resource::Contacts)?;
    let party = party_id
        .filter(|p| !p.is_empty())
        .map(|p| parse_id(p).map_err(|_| AppError::Invalid(FieldErrors::single("party_id", "party-unknown"))))
        .transpose()?;
    let filter = party.as_ref().map(|_| "party_id = $?");
    let mut conn = app.db.reader().await?;
    page::<ContactRow, _>(&mut conn, params, filter, party, |r| (r.name_norm.clone(), r.id.clone()), contact_of).await
}

pub async fn get_contact(app: &App, actor: &Actor, id: &str) -> AppResult<Contact> {
    actor.authorize(Action::Read, Resource::Contacts)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    rows::get::<ContactRow>(&mut conn, &id).await?.map(contact_of).ok_or(AppError::NotFound)
}

fn contact_input(c: &ContactIn, base: Option<&Contact>) -> ContactInput {
    let pick = |new: &Option<String>, old: Option<&Option<String>>| new.clone().or_else(|| old.cloned().flatten());
    ContactInput {
        name: c.name.clone().or_else(|| base.map(|b| b.name.clone())),
        job_title: pick(&c.job_title, base.map(|b| &b.job_title)),
        email: pick(&c.email, base.map(|b| &b.email)),
        phone: pick(&c.phone, base.map(|b| &b.phone)),
        mobile: pick(&c.mobile, base.map(|b| &b.mobile)),
        notes: pick(&c.notes, base.map(|b| &b.notes)),
    }
}

pub(crate) fn contact_row(d: party::ContactData, id: String, party_id: String) -> ContactRow {
    let now = clock::now_text();
    ContactRow {
        id,
        party_id,
        name_norm: fold(&d.name),
        search_text: search_text(&[Some(&d.name), d.job_title.as_deref(), d.email.as_deref(), d.phone.as_deref(), d.mobile.as_deref()]),
        name: d.name,
        job_title: d.job_title,
        email: d.email,
        phone: d.phone,
        mobile: d.mobile,
        notes: d.notes,
        archived_at: None,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    }
}

async fn check_party(conn: &mut Conn, e: &mut FieldErrors, id: Option<&str>) -> AppResult<String> {
    let found = match id.map(parse_id) {
        Some(Ok(id)) => rows::get::<PartyRow>(conn, &id).await?.filter(|p| p.archived_at.is_none()),
        _ => None,
    };
    match found {
        Some(p) => Ok(p.id),
        None => {
            e.add("party_id", if id.is_none() { "field-required" } else { "party-unknown" });
            Ok(String::new())
        }
    }
}

pub async fn create_contact(app: &App, actor: &Actor, input: &ContactIn) -> AppResult<Contact> {
    let mut tx = app.db.begin().await?;
    let out = create_contact_tx(&mut tx, actor, input).await?;
    commit(tx).await?;
    Ok(out)
}

/// Creates a contact inside the caller's transaction.
pub(crate) async fn create_contact_tx(tx: &mut Conn, actor: &Actor, input: &ContactIn) -> AppResult<Contact> {
    actor.authorize(Action::Create, Resource::Contacts)?;
    let data = party::validate_contact(&contact_input(input, None));
    let mut e = data.as_ref().err().cloned().unwrap_or_default();
    let party_id = check_party(tx, &mut e, input.party_id.as_deref()).await?;
    let data = data.map_err(|_| AppError::Invalid(e.clone()))?;
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let row = contact_row(data, new_id(), party_id);
    rows::insert(tx, &row).await?;
    let out = contact_of(row);
    audit::record(tx, actor, "create", "contact", &out.id, None::<&Contact>, Some(&out)).await?;
    Ok(out)
}

pub async fn update_contact(app: &App, actor: &Actor, id: &str, input: &ContactIn) -> AppResult<Contact> {
    let archiving = input.archived == Some(true) && input.name.is_none();
    actor.authorize(if archiving { Action::Archive } else { Action::Update }, Resource::Contacts)?;
    let id = parse_id(id)?;
    let mut tx = app.db.begin().await?;
    let old = rows::get::<ContactRow>(&mut tx, &id).await?.ok_or(AppError::NotFound)?;
    if input.version.is_some_and(|v| v != old.version) {
        return Err(AppError::Conflict);
    }
    let before = contact_of(old.clone());
    let data = party::validate_contact(&contact_input(input, Some(&before)));
    let mut e = data.as_ref().err().cloned().unwrap_or_default();
    let party_id = match &input.party_id {
        Some(p) => check_party(&mut tx, &mut e, Some(p)).await?,
        None => old.party_id.clone(),
    };
    let data = data.map_err(|_| AppError::Invalid(e.clone()))?;
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut row = contact_row(data, old.id.clone(), party_id);
    row.created_at = old.created_at.clone();
    row.version = old.version;
    row.archived_at = match input.archived {
        Some(false) => None,
        Some(true) => old.archived_at.clone().or_else(|| Some(clock::now_text())),
        None => old.archived_at.clone(),
    };
    rows::update(&mut tx, &row).await?;
    let after = contact_of(ContactRow { version: old.version + 1, ..row });
    audit::record(&mut tx, actor, "update", "contact", &id, Some(&before), Some(&after)).await?;
    commit(tx).await?;
    Ok(after)
}

// ---------------------------------------------------------------- salespeople

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Salesperson {
    pub id: String,
    pub code: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Commission percentage as a decimal string ("5.5").
    pub commission_pct: String,
    /// The Tendero user this person logs in as, if any.
    pub user_id: Option<String>,
    pub archived: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

fn salesperson_of(r: EmployeeRow) -> Salesperson {
    Salesperson {
        id: r.id,
        code: r.code,
        name: r.name,
        email: r.email,
        phone: r.phone,
        commission_pct: format_trimmed(r.commission_pct, PERCENT_SCALE),
        user_id: r.user_id,
        archived: r.archived_at.is_some(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalespersonIn {
    pub code: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub commission_pct: Option<String>,
    pub user_id: Option<String>,
    pub archived: Option<bool>,
    pub version: Option<i64>,
}

pub async fn list_salespeople(app: &App, actor: &Actor, params: &ListParams) -> AppResult<Page<Salesperson>> {
    actor.authorize(Action::Read, Resource::Salespeople)?;
    let mut conn = app.db.reader().await?;
    page::<EmployeeRow, _>(&mut conn, params, Some("is_salesperson = 1"), None, |r| (r.name_norm.clone(), r.id.clone()), salesperson_of)
        .await
}

pub async fn get_salesperson(app: &App, actor: &Actor, id: &str) -> AppResult<Salesperson> {
    actor.authorize(Action::Read, Resource::Salespeople)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    rows::get::<EmployeeRow>(&mut conn, &id).await?.filter(|r| r.is_salesperson != 0).map(salesperson_of).ok_or(AppError::NotFound)
}

async fn check_user(conn: &mut Conn, e: &mut FieldErrors, id: Option<&str>) -> AppResult<Option<String>> {
    let Some(raw) = id.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    match parse_id(raw) {
        Ok(id) if store::people::user_by_id(conn, &id).await?.is_some() => Ok(Some(id)),
        _ => {
            e.add("user_id", "user-unknown");
            Ok(None)
        }
    }
}

pub async fn save_salesperson(app: &App, actor: &Actor, id: Option<&str>, input: &SalespersonIn) -> AppResult<Salesperson> {
    let archiving = input.archived == Some(true) && input.name.is_none();
    let action = match id {
        None => Action::Create,
        Some(_) if archiving => Action::Archive,
        Some(_) => Action::Update,
    };
    actor.authorize(action, Resource::Salespeople)?;
    let mut tx = app.db.begin().await?;
    let old = match id {
        Some(id) => {
            let id = parse_id(id)?;
            Some(rows::get::<EmployeeRow>(&mut tx, &id).await?.filter(|r| r.is_salesperson != 0).ok_or(AppError::NotFound)?)
        }
        None => None,
    };
    if let (Some(o), Some(v)) = (&old, input.version) {
        if o.version != v {
            return Err(AppError::Conflict);
        }
    }
    let before = old.clone().map(salesperson_of);
    let pick = |new: &Option<String>, old: Option<String>| new.clone().or(old);
    let b = before.as_ref();
    let data = party::validate_employee(&EmployeeInput {
        code: pick(&input.code, b.and_then(|b| b.code.clone())),
        name: pick(&input.name, b.map(|b| b.name.clone())),
        email: pick(&input.email, b.and_then(|b| b.email.clone())),
        phone: pick(&input.phone, b.and_then(|b| b.phone.clone())),
        commission_pct: pick(&input.commission_pct, b.map(|b| b.commission_pct.clone())),
    });
    let mut e = data.as_ref().err().cloned().unwrap_or_default();
    let user_id = match &input.user_id {
        Some(u) => check_user(&mut tx, &mut e, Some(u)).await?,
        None => old.as_ref().and_then(|o| o.user_id.clone()),
    };
    let data = data.map_err(|_| AppError::Invalid(e.clone()))?;
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let now = clock::now_text();
    let row = EmployeeRow {
        id: old.as_ref().map(|o| o.id.clone()).unwrap_or_else(new_id),
        search_text: search_text(&[Some(&data.name), data.code.as_deref(), data.email.as_deref(), data.phone.as_deref()]),
        name_norm: fold(&data.name),
        code: data.code,
        name: data.name,
        email: data.email,
        phone: data.phone,
        is_salesperson: 1,
        commission_pct: data.commission_pct,
        user_id,
        archived_at: match (input.archived, old.as_ref()) {
            (Some(false), _) => None,
            (Some(true), o) => o.and_then(|o| o.archived_at.clone()).or_else(|| Some(now.clone())),
            (None, o) => o.and_then(|o| o.archived_at.clone()),
        },
        created_at: old.as_ref().map(|o| o.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
        version: old.as_ref().map_or(1, |o| o.version),
    };
    match &old {
        None => rows::insert(&mut tx, &row).await?,
        Some(_) => rows::update(&mut tx, &row).await?,
    }
    let after = salesperson_of(EmployeeRow { version: row.version + i64::from(old.is_some()), ..row });
    let action = if old.is_some() { "update" } else { "create" };
    audit::record(&mut tx, actor, action, "employee", &after.id, before.as_ref(), Some(&after)).await?;
    commit(tx).await?;
    Ok(after)
}

// ---------------------------------------------------------------- tax rates

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaxRate {
    pub id: String,
    pub name: String,
    /// Percentage as a decimal string: "21", "10.5".
    pub rate: String,
    /// Exempt (*exento*), as opposed to taxed at 0 %.
    pub exempt: bool,
    pub archived: bool,
    pub version: i64,
}

fn tax_rate_of(r: TaxRateRow) -> TaxRate {
    TaxRate {
        id: r.id,
        name: r.name,
        rate: format_trimmed(r.rate, PERCENT_SCALE),
        exempt: r.exempt != 0,
        archived: r.archived_at.is_some(),
        version: r.version,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateIn {
    pub name: Option<String>,
    /// Percentage as a decimal string, e.g. "10.5".
    pub rate: Option<String>,
    pub exempt: Option<bool>,
    pub archived: Option<bool>,
    pub version: Option<i64>,
}

pub async fn list_tax_rates(app: &App, actor: &Actor, include_archived: bool) -> AppResult<Vec<TaxRate>> {
    actor.authorize(Action::Read, Resource::TaxRates)?;
    let mut conn = app.db.reader().await?;
    Ok(rows::list_tax_rates(&mut conn, include_archived).await?.into_iter().map(tax_rate_of).collect())
}

pub async fn get_tax_rate(app: &App, actor: &Actor, id: &str) -> AppResult<TaxRate> {
    actor.authorize(Action::Read, Resource::TaxRates)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    rows::get::<TaxRateRow>(&mut conn, &id).await?.map(tax_rate_of).ok_or(AppError::NotFound)
}

pub async fn save_tax_rate(app: &App, actor: &Actor, id: Option<&str>, input: &TaxRateIn) -> AppResult<TaxRate> {
    let archiving = input.archived == Some(true) && input.name.is_none() && input.rate.is_none();
    let action = match id {
        None => Action::Create,
        Some(_) if archiving => Action::Archive,
        Some(_) => Action::Update,
    };
    actor.authorize(action, Resource::TaxRates)?;
    let mut tx = app.db.begin().await?;
    let old = match id {
        Some(id) => Some(rows::get::<TaxRateRow>(&mut tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if let (Some(o), Some(v)) = (&old, input.version) {
        if o.version != v {
            return Err(AppError::Conflict);
        }
    }
    let before = old.clone().map(tax_rate_of);
    let data = product::validate_tax_rate(&TaxRateInput {
        name: input.name.clone().or_else(|| before.as_ref().map(|b| b.name.clone())),
        rate: input.rate.clone().or_else(|| before.as_ref().map(|b| b.rate.clone())),
        exempt: input.exempt.or_else(|| before.as_ref().map(|b| b.exempt)).unwrap_or(false),
    })?;
    let now = clock::now_text();
    let row = TaxRateRow {
        id: old.as_ref().map(|o| o.id.clone()).unwrap_or_else(new_id),
        name: data.name,
        rate: data.rate,
        exempt: i64::from(data.exempt),
        archived_at: match (input.archived, old.as_ref()) {
            (Some(false), _) => None,
            (Some(true), o) => o.and_then(|o| o.archived_at.clone()).or_else(|| Some(now.clone())),
            (None, o) => o.and_then(|o| o.archived_at.clone()),
        },
        created_at: old.as_ref().map(|o| o.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
        version: old.as_ref().map_or(1, |o| o.version),
    };
    match &old {
        None => rows::insert(&mut tx, &row).await?,
        Some(_) => rows::update(&mut tx, &row).await?,
    }
    let after = tax_rate_of(TaxRateRow { version: row.version + i64::from(old.is_some()), ..row });
    audit::record(&mut tx, actor, if old.is_some() { "update" } else { "create" }, "tax_rate", &after.id, before.as_ref(), Some(&after))
        .await?;
    commit(tx).await?;
    Ok(after)
}

// ---------------------------------------------------------------- products

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    pub id: String,
    pub code: String,
    pub barcode: Option<String>,
    pub name: String,
    pub description: Option<String>,
    /// goods, service or manufactured.
    pub kind: String,
    pub unit: String,
    #[schema(example = "1234.50")]
    pub sale_price: String,
    pub cost: String,
    pub tax_rate_id: Option<String>,
    pub category: Option<String>,
    pub active: bool,
    pub archived: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

pub(crate) fn product_of(r: ProductRow, d: u32) -> Product {
    Product {
        id: r.id,
        code: r.code,
        barcode: r.barcode,
        name: r.name,
        description: r.description,
        kind: r.kind,
        unit: r.unit,
        sale_price: format_scaled(r.sale_price, d),
        cost: format_scaled(r.cost, d),
        tax_rate_id: r.tax_rate_id,
        category: r.category,
        active: r.archived_at.is_none(),
        archived: r.archived_at.is_some(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductIn {
    pub code: Option<String>,
    pub barcode: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub unit: Option<String>,
    /// Decimal string, e.g. "1234.50".
    pub sale_price: Option<String>,
    pub cost: Option<String>,
    pub tax_rate_id: Option<String>,
    pub category: Option<String>,
    /// `false` archives the article, `true` restores it.
    pub active: Option<bool>,
    pub archived: Option<bool>,
    pub version: Option<i64>,
}

impl ProductIn {
    /// `archived`, or else the opposite of `active`.
    fn archive_flag(&self) -> Option<bool> {
        self.archived.or(self.active.map(|a| !a))
    }
}

pub async fn list_products(app: &App, actor: &Actor, params: &ListParams) -> AppResult<Page<Product>> {
    actor.authorize(Action::Read, Resource::Products)?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    page::<ProductRow, _>(&mut conn, params, None, None, |r| (r.name_norm.clone(), r.id.clone()), |r| product_of(r, d)).await
}

pub async fn get_product(app: &App, actor: &Actor, id: &str) -> AppResult<Product> {
    actor.authorize(Action::Read, Resource::Products)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    rows::get::<ProductRow>(&mut conn, &id).await?.map(|r| product_of(r, d)).ok_or(AppError::NotFound)
}

pub async fn save_product(app: &App, actor: &Actor, id: Option<&str>, input: &ProductIn) -> AppResult<Product> {
    let mut tx = app.db.begin().await?;
    let d = company_in(&mut tx).await?.decimals();
    let out = save_product_tx(&mut tx, actor, d, id, input).await?;
    commit(tx).await?;
    Ok(out)
}

/// The article with this code.
pub async fn find_product_tx(tx: &mut Conn, decimals: u32, code: &str) -> AppResult<Option<Product>> {
    Ok(rows::find_by::<ProductRow>(tx, "code", &product_key(code)).await?.map(|r| product_of(r, decimals)))
}

/// An article's code as stored (the key [`find_product_tx`] looks for).
pub fn product_key(code: &str) -> String {
    code.trim().to_uppercase()
}

/// Creates (`id` = None) or changes an article inside the caller's transaction.
pub async fn save_product_tx(tx: &mut Conn, actor: &Actor, d: u32, id: Option<&str>, input: &ProductIn) -> AppResult<Product> {
    let archiving = input.archive_flag() == Some(true) && input.name.is_none() && input.code.is_none();
    let action = match id {
        None => Action::Create,
        Some(_) if archiving => Action::Archive,
        Some(_) => Action::Update,
    };
    actor.authorize(action, Resource::Products)?;
    let old = match id {
        Some(id) => Some(rows::get::<ProductRow>(tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if let (Some(o), Some(v)) = (&old, input.version) {
        if o.version != v {
            return Err(AppError::Conflict);
        }
    }
    // Whether the tax rate the input names (if any) exists and is not archived.
    let rate_known = match input.tax_rate_id.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(parse_id) {
        Some(Ok(t)) => rows::get::<TaxRateRow>(tx, &t).await?.is_some_and(|r| r.archived_at.is_none()),
        Some(Err(_)) => false,
        None => true,
    };
    let before = old.clone().map(|o| product_of(o, d));
    let row = product_row(old.as_ref().zip(before.as_ref()), input, d, rate_known)?;
    match &old {
        None => rows::insert(tx, &row).await?,
        Some(_) => rows::update(tx, &row).await?,
    }
    let after = product_of(ProductRow { version: row.version + i64::from(old.is_some()), ..row }, d);
    audit::record(tx, actor, if old.is_some() { "update" } else { "create" }, "product", &after.id, before.as_ref(), Some(&after)).await?;
    Ok(after)
}

/// The row of a new article, checked as [`save_product_tx`] checks one; `rate_known` says
/// whether the tax rate `input` names (if any) exists and is not archived.
pub(crate) fn new_product_row(actor: &Actor, input: &ProductIn, d: u32, rate_known: bool) -> AppResult<ProductRow> {
    actor.authorize(Action::Create, Resource::Products)?;
    product_row(None, input, d, rate_known)
}

/// The row [`save_product_tx`] writes: `input` over the article as it was (`old`, as a row
/// and as shown; `None` for a new one), every field validated.
fn product_row(old: Option<(&ProductRow, &Product)>, input: &ProductIn, d: u32, rate_known: bool) -> AppResult<ProductRow> {
    let b = old.map(|(_, b)| b);
    let old = old.map(|(o, _)| o);
    let pick = |new: &Option<String>, old: Option<String>| new.clone().or(old);
    let data = product::validate_product(
        &ProductInput {
            code: pick(&input.code, b.map(|b| b.code.clone())),
            barcode: pick(&input.barcode, b.and_then(|b| b.barcode.clone())),
            name: pick(&input.name, b.map(|b| b.name.clone())),
            description: pick(&input.description, b.and_then(|b| b.description.clone())),
            kind: pick(&input.kind, b.map(|b| b.kind.clone())),
            unit: pick(&input.unit, b.map(|b| b.unit.clone())),
            sale_price: pick(&input.sale_price, b.map(|b| b.sale_price.clone())),
            cost: pick(&input.cost, b.map(|b| b.cost.clone())),
            category: pick(&input.category, b.and_then(|b| b.category.clone())),
        },
        d,
    );
    let mut e = data.as_ref().err().cloned().unwrap_or_default();
    let tax_rate_id = match input.tax_rate_id.as_deref().map(str::trim) {
        None => old.and_then(|o| o.tax_rate_id.clone()),
        Some("") => None,
        Some(t) => match parse_id(t) {
            Ok(t) if rate_known => Some(t),
            _ => {
                e.add("tax_rate_id", "tax-rate-unknown");
                None
            }
        },
    };
    let data = data.map_err(|_| AppError::Invalid(e.clone()))?;
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let now = clock::now_text();
    Ok(ProductRow {
        id: old.map(|o| o.id.clone()).unwrap_or_else(new_id),
        search_text: search_text(&[Some(&data.name), Some(&data.code), data.barcode.as_deref(), data.category.as_deref()]),
        name_norm: fold(&data.name),
        code: data.code,
        barcode: data.barcode,
        name: data.name,
        description: data.description,
        kind: data.kind.code().to_string(),
        unit: data.unit,
        sale_price: data.sale_price_minor,
        cost: data.cost_minor,
        tax_rate_id,
        category: data.category,
        archived_at: match (input.archive_flag(), old) {
            (Some(false), _) => None,
            (Some(true), o) => o.and_then(|o| o.archived_at.clone()).or_else(|| Some(now.clone())),
            (None, o) => o.and_then(|o| o.archived_at.clone()),
        },
        created_at: old.map(|o| o.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
        version: old.map_or(1, |o| o.version),
    })
}

// ---------------------------------------------------------------- global search

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    /// customer, supplier, contact or product.
    pub kind: String,
    pub id: String,
    pub title: String,
    pub detail: String,
}

/// Finds customers, suppliers, contacts and articles the actor may see, ten of each.
pub async fn search(app: &App, actor: &Actor, q: &str) -> AppResult<Vec<SearchHit>> {
    let params = ListParams { q: Some(q.to_string()), limit: Some(10), ..Default::default() };
    if search_words(Some(q)).is_empty() {
        return Ok(Vec::new());
    }
    let mut hits = Vec::new();
    for role in [PartyRole::Customer, PartyRole::Supplier] {
        if actor.can(Action::Read, role.resource()) {
            for p in list_parties(app, actor, role, &params).await?.items {
                let kind = if role == PartyRole::Customer { "customer" } else { "supplier" };
                let detail = [p.tax_id.clone(), p.email.clone(), p.phone.clone(), p.city.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                hits.push(SearchHit { kind: kind.into(), id: p.id, title: p.name, detail });
            }
        }
    }
    if actor.can(Action::Read, Resource::Contacts) {
        for c in list_contacts(app, actor, &params, None).await?.items {
            let detail = [c.job_title.clone(), c.email.clone(), c.phone.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
            hits.push(SearchHit { kind: "contact".into(), id: c.id, title: c.name, detail });
        }
    }
    if actor.can(Action::Read, Resource::Products) {
        for p in list_products(app, actor, &params).await?.items {
            hits.push(SearchHit { kind: "product".into(), id: p.id, title: p.name, detail: format!("{} · {}", p.code, p.sale_price) });
        }
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = encode_cursor("ferreteria el tornillo", "0190-abc");
        assert_eq!(decode_cursor(&c).ok(), Some(("ferreteria el tornillo".to_string(), "0190-abc".to_string())));
        assert!(decode_cursor("%%%").is_err());
        assert!(decode_cursor("YWJj").is_err());
    }

    #[test]
    fn search_words_fold_and_strip_separators_from_numbers() {
        assert_eq!(search_words(Some("  Pérez 20-12345678-6 ")), vec!["perez", "20123456786"]);
        assert!(search_words(Some("  ")).is_empty());
        let t = search_text(&[Some("José Pérez"), Some("+54 11 4555-1234")]);
        assert!(t.contains("jose perez") && t.contains("541145551234"));
    }
}
