//! The sales pipeline: leads (people or companies not yet customers), their conversion
//! into a customer and an opportunity, opportunities moving through configurable stages
//! (each stage may require a value, a close date or a customer), won or lost with a
//! reason, a quote made from an opportunity, and conversion rates per stage, owner and
//! source.

use crate::crm::{customer_in, user_in};
use crate::master::{company_in, decode_cursor, encode_cursor, search_text, Page, PartyIn, PartyRole};
use crate::{audit, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::money::{format_scaled, parse_scaled};
use domain::pipeline::{self as pl, Has, LEAD_STATUSES, LEAD_STATUSES_BY_HAND, SOURCES};
use domain::text::fold;
use domain::validation::{self as v, FieldErrors};
use serde::{Deserialize, Serialize};
use store::pipeline::{self as rows, LeadRow, OpportunityQuery, OpportunityRow, StageRow};
use store::Conn;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Stage {
    pub id: String,
    pub code: String,
    pub name: String,
    pub position: i64,
    /// Percent an opportunity takes when it enters the stage.
    pub probability: i64,
    pub is_won: bool,
    pub is_lost: bool,
    /// What an opportunity needs to enter: expected_value, expected_close, customer.
    pub required_fields: Vec<String>,
}

fn stage_of(s: &StageRow) -> Stage {
    Stage {
        id: s.id.clone(),
        code: s.code.clone(),
        name: s.name.clone(),
        position: s.position,
        probability: s.probability,
        is_won: s.is_won != 0,
        is_lost: s.is_lost != 0,
        required_fields: s.required_fields.split_whitespace().map(str::to_string).collect(),
    }
}

pub async fn stages(app: &App, actor: &Actor) -> AppResult<Vec<Stage>> {
    actor.authorize(Action::Read, Resource::Pipeline)?;
    let mut conn = app.db.reader().await?;
    Ok(rows::stages(&mut conn).await?.iter().filter(|s| s.archived_at.is_none()).map(stage_of).collect())
}

// ---------------------------------------------------------------------------------------
// Leads

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Lead {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// web, referral, fair, campaign, cold_call, email, social, other
    pub source: String,
    pub owner_id: Option<String>,
    /// new | contacted | qualified | converted | disqualified
    pub status: String,
    pub notes: Option<String>,
    pub disqualified_reason: Option<String>,
    pub customer_id: Option<String>,
    pub opportunity_id: Option<String>,
    pub converted_at: Option<String>,
    pub created_at: String,
    pub version: i64,
}

fn lead_of(l: LeadRow) -> Lead {
    Lead {
        id: l.id,
        name: l.name,
        company: l.company,
        email: l.email,
        phone: l.phone,
        source: l.source,
        owner_id: l.owner_id,
        status: l.status,
        notes: l.notes,
        disqualified_reason: l.disqualified_reason,
        customer_id: l.converted_party_id,
        opportunity_id: l.converted_opportunity_id,
        converted_at: l.converted_at,
        created_at: l.created_at,
        version: l.version,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadIn {
    pub name: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: Option<String>,
    /// A user id or user name; default the one who creates it.
    pub owner: Option<String>,
    /// new | contacted | qualified | disqualified (converting is its own action).
    pub status: Option<String>,
    pub notes: Option<String>,
    /// Required when disqualifying.
    pub disqualified_reason: Option<String>,
    pub version: Option<i64>,
}

fn choice(errors: &mut FieldErrors, field: &str, value: Option<&str>, allowed: &[&str]) -> Option<String> {
    let value = value.map(str::trim).filter(|s| !s.is_empty())?;
    if allowed.contains(&value) {
        Some(value.to_string())
    } else {
        errors.add(field, "value-invalid");
        None
    }
}

/// Creates a lead (`id` none) or changes one.
pub async fn save_lead(app: &App, actor: &Actor, id: Option<&str>, input: &LeadIn) -> AppResult<Lead> {
    actor.authorize(if id.is_some() { Action::Update } else { Action::Create }, Resource::Pipeline)?;
    let mut tx = app.db.begin().await?;
    let before = match id {
        Some(id) => Some(rows::get_lead(&mut tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if before.as_ref().is_some_and(|b| input.version.is_some_and(|v| v != b.version)) {
        return Err(AppError::Conflict);
    }
    if before.as_ref().is_some_and(|b| b.status == "converted") {
        return Err(AppError::Refused("lead-converted"));
    }
    let now = clock::now_text();
    let mut l = before.clone().unwrap_or_else(|| LeadRow {
        id: new_id(),
        source: "other".into(),
        status: "new".into(),
        owner_id: actor.user_id.clone(),
        created_by: actor.display_name.clone(),
        created_at: now.clone(),
        version: 1,
        ..LeadRow::default()
    });
    let mut errors = FieldErrors::new();
    if input.name.is_some() || before.is_none() {
        l.name = v::required(&mut errors, "name", input.name.as_deref(), 120);
    }
    if input.company.is_some() {
        l.company = v::optional(&mut errors, "company", input.company.as_deref(), 120);
    }
    if input.email.is_some() {
        l.email = v::email(&mut errors, "email", input.email.as_deref());
    }
    if input.phone.is_some() {
        l.phone = v::phone(&mut errors, "phone", input.phone.as_deref());
    }
    if input.notes.is_some() {
        l.notes = v::optional(&mut errors, "notes", input.notes.as_deref(), 5_000);
    }
    if let Some(s) = choice(&mut errors, "source", input.source.as_deref(), SOURCES) {
        l.source = s;
    }
    if let Some(s) = choice(&mut errors, "status", input.status.as_deref(), LEAD_STATUSES_BY_HAND) {
        l.status = s;
    }
    if input.owner.is_some() {
        l.owner_id = user_in(&mut tx, &mut errors, "owner", input.owner.as_deref()).await?;
    }
    if input.disqualified_reason.is_some() {
        l.disqualified_reason = v::optional(&mut errors, "disqualified_reason", input.disqualified_reason.as_deref(), 500);
    }
    if l.status == "disqualified" && l.disqualified_reason.is_none() {
        errors.add("disqualified_reason", "field-required");
    }
    errors.into_result(())?;
    l.name_norm = fold(&l.name);
    l.search_text = search_text(&[Some(&l.name), l.company.as_deref(), l.email.as_deref(), l.phone.as_deref()]);
    l.updated_at = now;
    rows::save_lead(&mut tx, &l, before.is_none()).await?;
    let after = Lead { version: l.version + i64::from(before.is_some()), ..lead_of(l) };
    let b = before.map(lead_of);
    audit::record(&mut tx, actor, if b.is_some() { "update" } else { "create" }, "lead", &after.id, b.as_ref(), Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

pub async fn get_lead(app: &App, actor: &Actor, id: &str) -> AppResult<Lead> {
    actor.authorize(Action::Read, Resource::Pipeline)?;
    let mut conn = app.db.reader().await?;
    rows::get_lead(&mut conn, &parse_id(id)?).await?.map(lead_of).ok_or(AppError::NotFound)
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadParams {
    /// Words to find in the name, company, e-mail or phone.
    pub q: Option<String>,
    /// One status (new, contacted, qualified, converted, disqualified).
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn list_leads(app: &App, actor: &Actor, p: &LeadParams) -> AppResult<Page<Lead>> {
    actor.authorize(Action::Read, Resource::Pipeline)?;
    let limit = crate::master::page_limit(p.limit)?;
    let mut errors = FieldErrors::new();
    let status = choice(&mut errors, "status", p.status.as_deref(), LEAD_STATUSES);
    errors.into_result(())?;
    let before = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_cursor(c)?),
        None => None,
    };
    let words: Vec<String> = fold(p.q.as_deref().unwrap_or("")).split_whitespace().take(8).map(str::to_string).collect();
    let mut conn = app.db.reader().await?;
    let mut found = rows::leads(&mut conn, status.as_deref(), &words, before, limit + 1).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|l| encode_cursor(&l.created_at, &l.id))
    } else {
        None
    };
    Ok(Page { items: found.into_iter().map(lead_of).collect(), next_cursor })
}

// ---------------------------------------------------------------------------------------
// Opportunities

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Opportunity {
    pub id: String,
    pub name: String,
    pub customer_id: Option<String>,
    pub lead_id: Option<String>,
    /// The stage's code.
    pub stage: String,
    /// open | won | lost
    pub status: String,
    /// Decimal string in the company currency.
    pub expected_value: Option<String>,
    /// Percent.
    pub probability: i64,
    /// YYYY-MM-DD
    pub expected_close: Option<String>,
    pub owner_id: Option<String>,
    pub source: String,
    pub lost_reason: Option<String>,
    pub quote_id: Option<String>,
    pub closed_at: Option<String>,
    pub created_at: String,
    pub version: i64,
}

fn opportunity_of(o: OpportunityRow, stages: &[StageRow], decimals: u32) -> Opportunity {
    Opportunity {
        stage: stages.iter().find(|s| s.id == o.stage_id).map(|s| s.code.clone()).unwrap_or_default(),
        expected_value: o.expected_value.map(|v| format_scaled(v, decimals)),
        id: o.id,
        name: o.name,
        customer_id: o.party_id,
        lead_id: o.lead_id,
        status: o.status,
        probability: o.probability,
        expected_close: o.expected_close,
        owner_id: o.owner_id,
        source: o.source,
        lost_reason: o.lost_reason,
        quote_id: o.quote_id,
        closed_at: o.closed_at,
        created_at: o.created_at,
        version: o.version,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpportunityIn {
    pub name: Option<String>,
    pub customer_id: Option<String>,
    /// A stage code (default: the first stage).
    pub stage: Option<String>,
    /// Decimal string, e.g. "150000.00"; empty clears it.
    pub expected_value: Option<String>,
    /// Percent 0–100; default the stage's.
    pub probability: Option<i64>,
    /// YYYY-MM-DD; empty clears it.
    pub expected_close: Option<String>,
    /// A user id or name; default the one who creates it.
    pub owner: Option<String>,
    pub source: Option<String>,
    /// Required when moving to a lost stage.
    pub lost_reason: Option<String>,
    pub version: Option<i64>,
}

fn stage_by_code<'a>(stages: &'a [StageRow], code: &str) -> Option<&'a StageRow> {
    stages.iter().find(|s| s.archived_at.is_none() && (s.code == code || s.id == code))
}

/// Fills an opportunity from the input and checks the stage's requirements. Returns the
/// stage move to record (after the opportunity is saved), if the stage changes.
async fn apply(
    tx: &mut Conn,
    o: &mut OpportunityRow,
    input: &OpportunityIn,
    stages: &[StageRow],
    decimals: u32,
    creating: bool,
    now: &str,
) -> AppResult<Option<(Option<String>, String)>> {
    let mut errors = FieldErrors::new();
    if input.name.is_some() || creating {
        o.name = v::required(&mut errors, "name", input.name.as_deref(), 200);
    }
    if input.customer_id.is_some() {
        o.party_id = customer_in(tx, &mut errors, input.customer_id.as_deref()).await.map(|p| p.id);
    }
    if let Some(val) = &input.expected_value {
        o.expected_value = if val.trim().is_empty() {
            None
        } else {
            match parse_scaled(val, decimals, false) {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.add("expected_value", "amount-invalid");
                    None
                }
            }
        };
    }
    if let Some(d) = &input.expected_close {
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        o.expected_close = if d.trim().is_empty() {
            None
        } else if time::Date::parse(d.trim(), fmt).is_ok() {
            Some(d.trim().to_string())
        } else {
            errors.add("expected_close", "date-invalid");
            None
        };
    }
    if input.owner.is_some() {
        o.owner_id = user_in(tx, &mut errors, "owner", input.owner.as_deref()).await?;
    }
    if let Some(s) = choice(&mut errors, "source", input.source.as_deref(), SOURCES) {
        o.source = s;
    }
    if input.lost_reason.is_some() {
        o.lost_reason = v::optional(&mut errors, "lost_reason", input.lost_reason.as_deref(), 500);
    }
    let from = o.stage_id.clone();
    let stage = match input.stage.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => match stage_by_code(stages, code) {
            Some(s) => Some(s),
            None => {
                errors.add("stage", "value-invalid");
                None
            }
        },
        None if creating => stages.iter().find(|s| s.archived_at.is_none() && s.is_won == 0 && s.is_lost == 0),
        None => None,
    };
    let moved = stage.is_some_and(|s| s.id != from);
    if let Some(s) = stage {
        let has =
            Has { expected_value: o.expected_value.is_some(), expected_close: o.expected_close.is_some(), customer: o.party_id.is_some() };
        for field in pl::missing(&s.required_fields, has) {
            let field = if field == "customer" { "customer_id" } else { field };
            errors.add(field, "stage-requires");
        }
        if s.is_lost != 0 && o.lost_reason.is_none() {
            errors.add("lost_reason", "field-required");
        }
    }
    match input.probability {
        Some(p) if !(0..=100).contains(&p) => errors.add("probability", "value-invalid"),
        Some(p) => o.probability = p,
        None => {}
    }
    errors.into_result(())?;
    if let Some(s) = stage.filter(|_| moved || creating) {
        o.stage_id = s.id.clone();
        if input.probability.is_none() {
            o.probability = s.probability;
        }
        o.status = if s.is_won != 0 {
            "won"
        } else if s.is_lost != 0 {
            "lost"
        } else {
            "open"
        }
        .into();
        o.closed_at = (o.status != "open").then(|| now.to_string());
        if o.status != "lost" {
            o.lost_reason = None;
        }
        return Ok(Some(((!creating).then_some(from), s.id.clone())));
    }
    Ok(None)
}

async fn record_move(tx: &mut Conn, actor: &Actor, o: &OpportunityRow, moved: Option<(Option<String>, String)>) -> AppResult<()> {
    if let Some((from, to)) = moved {
        rows::insert_move(tx, &new_id(), &o.id, from.as_deref(), &to, &o.updated_at, &actor.display_name).await?;
    }
    Ok(())
}

/// Creates an opportunity (`id` none) or changes one, moving it to another stage when
/// `stage` is given.
pub async fn save_opportunity(app: &App, actor: &Actor, id: Option<&str>, input: &OpportunityIn) -> AppResult<Opportunity> {
    actor.authorize(if id.is_some() { Action::Update } else { Action::Create }, Resource::Pipeline)?;
    let mut tx = app.db.begin().await?;
    let decimals = company_in(&mut tx).await?.decimals();
    let stages = rows::stages(&mut tx).await?;
    let before = match id {
        Some(id) => Some(rows::get_opportunity(&mut tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if before.as_ref().is_some_and(|b| input.version.is_some_and(|v| v != b.version)) {
        return Err(AppError::Conflict);
    }
    let now = clock::now_text();
    let mut o = before.clone().unwrap_or_else(|| OpportunityRow {
        id: new_id(),
        status: "open".into(),
        source: "other".into(),
        owner_id: actor.user_id.clone(),
        created_by: actor.display_name.clone(),
        created_at: now.clone(),
        version: 1,
        ..OpportunityRow::default()
    });
    let moved = apply(&mut tx, &mut o, input, &stages, decimals, before.is_none(), &now).await?;
    o.updated_at = now;
    rows::save_opportunity(&mut tx, &o, before.is_none()).await?;
    record_move(&mut tx, actor, &o, moved).await?;
    let after = Opportunity { version: o.version + i64::from(before.is_some()), ..opportunity_of(o, &stages, decimals) };
    let b = before.map(|b| opportunity_of(b, &stages, decimals));
    audit::record(&mut tx, actor, if b.is_some() { "update" } else { "create" }, "opportunity", &after.id, b.as_ref(), Some(&after))
        .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

pub async fn get_opportunity(app: &App, actor: &Actor, id: &str) -> AppResult<Opportunity> {
    actor.authorize(Action::Read, Resource::Pipeline)?;
    let mut conn = app.db.reader().await?;
    let decimals = company_in(&mut conn).await?.decimals();
    let stages = rows::stages(&mut conn).await?;
    let o = rows::get_opportunity(&mut conn, &parse_id(id)?).await?.ok_or(AppError::NotFound)?;
    Ok(opportunity_of(o, &stages, decimals))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpportunityParams {
    /// open | won | lost
    pub status: Option<String>,
    /// A stage code.
    pub stage: Option<String>,
    /// `me` or a user id.
    pub owner: Option<String>,
    pub customer_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn list_opportunities(app: &App, actor: &Actor, p: &OpportunityParams) -> AppResult<Page<Opportunity>> {
    actor.authorize(Action::Read, Resource::Pipeline)?;
    let limit = crate::master::page_limit(p.limit)?;
    let mut errors = FieldErrors::new();
    let status = choice(&mut errors, "status", p.status.as_deref(), &["open", "won", "lost"]);
    let mut conn = app.db.reader().await?;
    let stages = rows::stages(&mut conn).await?;
    let stage_id = match p.stage.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => match stage_by_code(&stages, code) {
            Some(s) => Some(s.id.clone()),
            None => {
                errors.add("stage", "value-invalid");
                None
            }
        },
        None => None,
    };
    let owner_id = match p.owner.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some("me") => Some(actor.user_id.clone().unwrap_or_default()),
        Some(o) => Some(parse_id(o).unwrap_or_default()),
        None => None,
    };
    let party_id = p.customer_id.as_deref().filter(|s| !s.trim().is_empty()).map(|c| parse_id(c).unwrap_or_default());
    errors.into_result(())?;
    let before = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_cursor(c)?),
        None => None,
    };
    let decimals = company_in(&mut conn).await?.decimals();
    let q = OpportunityQuery { status, stage_id, owner_id, party_id, before, limit: limit + 1 };
    let mut found = rows::opportunities(&mut conn, &q).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|o| encode_cursor(&o.created_at, &o.id))
    } else {
        None
    };
    Ok(Page { items: found.into_iter().map(|o| opportunity_of(o, &stages, decimals)).collect(), next_cursor })
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertIn {
    /// The opportunity's name (default: the lead's company or name).
    pub opportunity_name: Option<String>,
    pub expected_value: Option<String>,
    pub expected_close: Option<String>,
    /// A stage code (default: the first).
    pub stage: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Converted {
    pub lead: Lead,
    pub customer: crate::master::Party,
    pub opportunity: Opportunity,
}

/// A qualified lead becomes a customer and an opportunity, in one transaction.
pub async fn convert_lead(app: &App, actor: &Actor, id: &str, input: &ConvertIn) -> AppResult<Converted> {
    actor.authorize(Action::Update, Resource::Pipeline)?;
    actor.authorize(Action::Create, Resource::Customers)?;
    let mut tx = app.db.begin().await?;
    let mut l = rows::get_lead(&mut tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?;
    if matches!(l.status.as_str(), "converted" | "disqualified") {
        return Err(AppError::Refused("lead-converted"));
    }
    let before = lead_of(l.clone());
    let company = company_in(&mut tx).await?;
    let party_input = PartyIn {
        name: Some(l.company.clone().unwrap_or_else(|| l.name.clone())),
        email: l.email.clone(),
        phone: l.phone.clone(),
        notes: l.notes.clone(),
        ..PartyIn::default()
    };
    let customer = crate::master::create_party_tx(&mut tx, actor, &company, PartyRole::Customer, &party_input).await?;
    if l.company.is_some() {
        let contact = crate::master::ContactIn {
            party_id: Some(customer.id.clone()),
            name: Some(l.name.clone()),
            email: l.email.clone(),
            phone: l.phone.clone(),
            ..Default::default()
        };
        crate::master::create_contact_tx(&mut tx, actor, &contact).await?;
    }
    let stages = rows::stages(&mut tx).await?;
    let now = clock::now_text();
    let mut o = OpportunityRow {
        id: new_id(),
        party_id: Some(customer.id.clone()),
        lead_id: Some(l.id.clone()),
        status: "open".into(),
        source: l.source.clone(),
        owner_id: l.owner_id.clone().or(actor.user_id.clone()),
        created_by: actor.display_name.clone(),
        created_at: now.clone(),
        version: 1,
        ..OpportunityRow::default()
    };
    let oi = OpportunityIn {
        name: Some(input.opportunity_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| customer.name.clone())),
        stage: input.stage.clone(),
        expected_value: input.expected_value.clone(),
        expected_close: input.expected_close.clone(),
        ..OpportunityIn::default()
    };
    let moved = apply(&mut tx, &mut o, &oi, &stages, company.decimals(), true, &now).await?;
    o.updated_at = now.clone();
    rows::save_opportunity(&mut tx, &o, true).await?;
    record_move(&mut tx, actor, &o, moved).await?;
    let opportunity = opportunity_of(o, &stages, company.decimals());
    audit::record(&mut tx, actor, "create", "opportunity", &opportunity.id, None::<&Opportunity>, Some(&opportunity)).await?;
    l.status = "converted".into();
    l.converted_party_id = Some(customer.id.clone());
    l.converted_opportunity_id = Some(opportunity.id.clone());
    l.converted_at = Some(now.clone());
    l.updated_at = now;
    rows::save_lead(&mut tx, &l, false).await?;
    l.version += 1;
    let lead = lead_of(l);
    audit::record(&mut tx, actor, "convert", "lead", &lead.id, Some(&before), Some(&lead)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(Converted { lead, customer, opportunity })
}

/// A draft quote for the opportunity's customer, linked to it, in one transaction.
pub async fn quote_from_opportunity(
    app: &App,
    actor: &Actor,
    id: &str,
    input: &crate::sales::DocumentIn,
) -> AppResult<crate::sales::Document> {
    actor.authorize(Action::Update, Resource::Pipeline)?;
    let mut tx = app.db.begin().await?;
    let mut o = rows::get_opportunity(&mut tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?;
    let Some(party) = o.party_id.clone() else {
        return Err(AppError::Invalid(FieldErrors::single("customer_id", "stage-requires")));
    };
    if o.status != "open" {
        return Err(AppError::Refused("opportunity-closed"));
    }
    let mut doc_in = input.clone();
    doc_in.customer_id = Some(party);
    let quote = crate::sales::create_document_tx(&mut tx, actor, domain::sales::DocKind::Quote, &doc_in).await?;
    o.quote_id = Some(quote.id.clone());
    o.updated_at = clock::now_text();
    rows::save_opportunity(&mut tx, &o, false).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(quote)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageRate {
    pub stage: String,
    /// Opportunities that ever entered the stage.
    pub entered: i64,
    /// Of those, won in the end.
    pub won: i64,
    /// won / entered, percent with two decimals.
    pub win_percent: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClosedRate {
    /// The owner's user id, or the source.
    pub key: Option<String>,
    pub won: i64,
    pub lost: i64,
    /// won / (won + lost), percent with two decimals.
    pub win_percent: Option<String>,
    /// What was won, decimal string.
    pub won_value: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeadRate {
    pub source: String,
    pub leads: i64,
    pub converted: i64,
    pub conversion_percent: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Conversion {
    pub stages: Vec<StageRate>,
    pub owners: Vec<ClosedRate>,
    pub sources: Vec<ClosedRate>,
    pub leads: Vec<LeadRate>,
}

fn percent(part: i64, whole: i64) -> String {
    format_scaled(if whole > 0 { part * 10_000 / whole } else { 0 }, 2)
}

/// Conversion rates: per stage (entered → won), per owner and source (won out of closed),
/// and leads converted into customers per source.
pub async fn conversion(app: &App, actor: &Actor) -> AppResult<Conversion> {
    actor.authorize(Action::Read, Resource::Pipeline)?;
    let mut conn = app.db.reader().await?;
    let decimals = company_in(&mut conn).await?.decimals();
    let stage_rows = rows::stages(&mut conn).await?;
    let funnel = rows::stage_funnel(&mut conn).await?;
    let stages = stage_rows
        .iter()
        .filter(|s| s.archived_at.is_none())
        .map(|s| {
            let (entered, won) = funnel.iter().find(|(id, _, _)| *id == s.id).map(|(_, e, w)| (*e, *w)).unwrap_or((0, 0));
            StageRate { stage: s.code.clone(), entered, won, win_percent: percent(won, entered) }
        })
        .collect();
    let closed = |rows: Vec<(Option<String>, i64, i64, i64)>| -> Vec<ClosedRate> {
        rows.into_iter()
            .map(|(key, won, lost, value)| ClosedRate {
                key,
                won,
                lost,
                win_percent: pl::win_rate(won, lost).map(|r| format_scaled(r, 2)),
                won_value: format_scaled(value, decimals),
            })
            .collect()
    };
    let owners = closed(rows::closed_by(&mut conn, true).await?);
    let sources = closed(rows::closed_by(&mut conn, false).await?);
    let leads = rows::lead_conversion(&mut conn)
        .await?
        .into_iter()
        .map(|(source, leads, converted)| LeadRate { source, leads, converted, conversion_percent: percent(converted, leads) })
        .collect();
    Ok(Conversion { stages, owners, sources, leads })
}
