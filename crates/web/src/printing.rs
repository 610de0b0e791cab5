//! Documents as PDF: what a printed quote, order, delivery note, invoice, note, receipt or
//! account statement shows, in the reader's language, laid out by the `print` crate
//! (typst templates the business can replace in `DATA_DIR/templates`).

use crate::i18n::Catalog;
use crate::pages::format_decimal;
use crate::AppState;
use app::master::{self as m, PartyRole};
use app::purchasing as p;
use app::receivables::{self as ar, AgeingParams};
use app::sales::{self as s, Document};
use app::{Actor, AppError, AppResult};
use domain::purchase::PurchaseKind;
use domain::sales::DocKind;
use print::{Align, Column, Field, Labels, PrintDocument, PrintParty, PrintStatement, PrintTax};
use std::collections::HashMap;

/// A [`LineView`] of a sales or a purchasing line: both have these fields.
macro_rules! line_view {
    ($l:expr) => {
        LineView {
            product_id: $l.product_id.as_deref(),
            description: &$l.description,
            quantity: &$l.quantity,
            unit_price: &$l.unit_price,
            discount: &$l.discount,
            tax_name: &$l.tax_name,
            amount: &$l.amount,
        }
    };
}

struct T<'a> {
    catalog: &'a Catalog,
    locale: &'a str,
}

impl T<'_> {
    fn t(&self, key: &str) -> String {
        self.catalog.t(self.locale, key)
    }
    fn money(&self, v: &str) -> String {
        format_decimal(v, self.locale)
    }
}

fn labels(t: &T) -> Labels {
    Labels {
        page: t.t("print-page"),
        of: t.t("print-of"),
        number: t.t("print-number"),
        date: t.t("field-date"),
        due_date: t.t("field-due-date"),
        customer: t.t("field-customer"),
        phone: t.t("print-phone"),
        tax: t.t("field-tax"),
        tax_base: t.t("print-tax-base"),
        tax_amount: t.t("field-amount"),
        notes: t.t("field-notes"),
        ageing: t.t("ageing-title"),
        period: t.t("print-period"),
        continued: t.t("print-continued"),
    }
}

/// The plural name of a currency as written in amounts in words.
fn currency_words(code: &str) -> &'static str {
    match code {
        "EUR" => "euros",
        "USD" => "dólares",
        "PEN" => "soles",
        "GTQ" => "quetzales",
        "BOB" => "bolivianos",
        "PYG" => "guaraníes",
        "CRC" => "colones",
        _ => "pesos",
    }
}

fn company_party(t: &T, c: &m::Company) -> PrintParty {
    let mut address = Vec::new();
    address.extend(c.street.clone());
    let city: Vec<String> = [c.postal_code.clone(), c.city.clone(), c.region.clone()].into_iter().flatten().collect();
    if !city.is_empty() {
        address.push(city.join(" "));
    }
    PrintParty {
        name: c.legal_name.clone(),
        tax_id: c.tax_id.clone().map(|v| Field::new(t.t(&format!("taxid-label-{}", c.tax_scheme)), v)),
        address,
        phone: c.phone.clone(),
        email: c.email.clone(),
        website: c.website.clone(),
        extra: vec![],
    }
}

fn customer_party(t: &T, name: &str, tax_id: Option<&str>, p: Option<&m::Party>, scheme: &str) -> PrintParty {
    let mut address = Vec::new();
    if let Some(p) = p {
        address.extend(p.street.clone());
        let city: Vec<String> = [p.postal_code.clone(), p.city.clone(), p.region.clone()].into_iter().flatten().collect();
        if !city.is_empty() {
            address.push(city.join(" "));
        }
    }
    let scheme = p.and_then(|p| p.tax_scheme.clone()).unwrap_or_else(|| scheme.to_string());
    PrintParty {
        name: name.to_string(),
        tax_id: tax_id.map(|v| Field::new(t.t(&format!("taxid-label-{scheme}")), v)),
        address,
        phone: p.and_then(|p| p.phone.clone()),
        email: p.and_then(|p| p.email.clone()),
        website: None,
        extra: p.and_then(|p| p.code.clone()).map(|c| vec![Field::new(t.t("field-code"), c)]).unwrap_or_default(),
    }
}

async fn logo(st: &AppState, actor: &Actor) -> Option<Vec<u8>> {
    app::logo::get(&st.app, actor).await.ok().flatten().map(|(_, bytes)| bytes)
}

/// Renders off the async threads: laying out a long document takes tens of milliseconds.
async fn render_pdf<F>(st: &AppState, f: F) -> AppResult<Vec<u8>>
where
    F: FnOnce(&print::Printer) -> Result<Vec<u8>, print::PrintError> + Send + 'static,
{
    let printer = st.printer.clone();
    let out = tokio::task::spawn_blocking(move || f(&printer)).await.map_err(|e| AppError::Internal(e.to_string()))?;
    out.map_err(|e| match e {
        print::PrintError::Template { .. } | print::PrintError::TemplateRead { .. } => {
            tracing::error!(error = %e, "the document template failed");
            AppError::Refused("print-template-error")
        }
        other => AppError::Internal(other.to_string()),
    })
}

/// A document's PDF and the file name to give it.
pub async fn document_pdf(st: &AppState, actor: &Actor, locale: &str, kind: DocKind, id: &str) -> AppResult<(String, Vec<u8>)> {
    let d = s::get_document(&st.app, actor, kind, id).await?;
    pdf_of(st, actor, locale, &d).await
}

/// The PDF of a document already read.
async fn pdf_of(st: &AppState, actor: &Actor, locale: &str, d: &Document) -> AppResult<(String, Vec<u8>)> {
    let doc = print_document(st, actor, locale, d).await?;
    let name = format!("{}-{}.pdf", doc.title, d.number.clone().unwrap_or_else(|| d.id.chars().take(8).collect())).replace(' ', "-");
    let pdf = render_pdf(st, move |p| p.document(&doc)).await?;
    Ok((name, pdf))
}

async fn print_document(st: &AppState, actor: &Actor, locale: &str, d: &Document) -> AppResult<PrintDocument> {
    let t = T { catalog: &st.i18n, locale };
    let company = m::company(&st.app, actor).await?;
    let party = m::get_party(&st.app, actor, PartyRole::Customer, &d.customer_id).await.ok();
    let kind = DocKind::from_code(&d.kind).unwrap_or(DocKind::Invoice);
    let codes = product_codes(st, actor, d.lines.iter().filter_map(|l| l.product_id.clone())).await;
    let priced = kind != DocKind::Delivery;
    let (columns, rows) = if kind == DocKind::Receipt {
        let columns = vec![
            Column::fill(t.t("field-document")),
            Column::new(t.t("field-date"), Align::Left),
            Column::new(t.t("field-amount"), Align::Right),
        ];
        let mut rows = Vec::new();
        for a in &d.allocations {
            let (name, date) = match s::get_any_document(&st.app, actor, &a.document_id).await {
                Ok(o) => (format!("{} {}", t.t(&format!("kind-{}", o.kind)), o.number.unwrap_or_default()), o.issue_date),
                Err(_) => (a.document_id.clone(), String::new()),
            };
            rows.push(vec![name, date, t.money(&a.amount)]);
        }
        (columns, rows)
    } else {
        line_table(&t, &codes, priced, d.lines.iter().map(|l| line_view!(l)))
    };
    let symbol = if company.currency == "EUR" { "€" } else { "$" };
    let mut totals = Vec::new();
    if priced && kind != DocKind::Receipt {
        totals.push(Field::new(t.t("field-untaxed-amount"), t.money(&d.untaxed_amount)));
        for tx in &d.taxes {
            totals.push(Field::new(tx.name.clone(), t.money(&tx.tax)));
        }
    }
    if priced {
        totals.push(Field::new(t.t("field-total"), format!("{symbol} {}", t.money(&d.total))));
    }
    let amount_in_words = priced.then(|| {
        let minor = domain::money::parse_scaled(&d.total, company.decimals(), true).unwrap_or(0);
        domain::words::amount_in_words_es(minor, company.decimals(), currency_words(&company.currency))
    });
    let mut references = Vec::new();
    if let Some(origin) = &d.origin_id {
        if let Ok(o) = s::get_any_document(&st.app, actor, origin).await {
            references.push(Field::new(t.t(&format!("kind-{}", o.kind)), o.number.unwrap_or_default()));
        }
    }
    if let Some(r) = d.customer_reference.as_ref().filter(|r| !r.is_empty()) {
        references.push(Field::new(t.t("field-customer-reference"), r.clone()));
    }
    if let Some(v) = &d.valid_until {
        references.push(Field::new(t.t("field-valid-until"), v.clone()));
    }
    if let Some(v) = &d.promised_date {
        references.push(Field::new(t.t("field-promised-date"), v.clone()));
    }
    if let (Some(p), true) = (&party, matches!(kind, DocKind::Invoice | DocKind::DebitNote)) {
        let terms = if p.payment_terms_days == 0 { t.t("print-cash") } else { format!("{} {}", p.payment_terms_days, t.t("print-days")) };
        references.push(Field::new(t.t("print-terms"), terms));
    }
    if let Some(r) = d.reason.as_ref().filter(|r| !r.is_empty()) {
        references.push(Field::new(t.t("field-reason"), r.clone()));
    }
    let watermark = watermark(&t, &d.status);
    let footer = footer(&company);
    Ok(PrintDocument {
        title: t.t(&format!("kind-{}", d.kind)),
        number: d.number.clone().unwrap_or_else(|| t.t("status-draft")),
        letter: None,
        letter_code: None,
        date: d.issue_date.clone(),
        due_date: d.due_date.clone(),
        company: company_party(&t, &company),
        logo: logo(st, actor).await,
        customer: customer_party(&t, &d.customer_name, d.customer_tax_id.as_deref(), party.as_ref(), &company.tax_scheme),
        references,
        columns,
        rows,
        tax_breakdown: if priced && kind != DocKind::Receipt {
            d.taxes.iter().map(|x| PrintTax { label: x.name.clone(), base: t.money(&x.base), tax: t.money(&x.tax) }).collect()
        } else {
            vec![]
        },
        totals,
        amount_in_words,
        notes: d.notes.clone().filter(|n| !n.is_empty()),
        footer,
        watermark,
        lang: locale.to_string(),
        labels: labels(&t),
    })
}

/// Product codes by id, for the code column of printed lines.
async fn product_codes(st: &AppState, actor: &Actor, ids: impl Iterator<Item = String>) -> HashMap<String, String> {
    let mut codes: HashMap<String, String> = HashMap::new();
    for pid in ids {
        if let std::collections::hash_map::Entry::Vacant(slot) = codes.entry(pid) {
            if let Ok(p) = m::get_product(&st.app, actor, slot.key()).await {
                slot.insert(p.code);
            }
        }
    }
    codes
}

/// One printed line of a sales or purchasing document.
struct LineView<'a> {
    product_id: Option<&'a str>,
    description: &'a str,
    quantity: &'a str,
    unit_price: &'a str,
    discount: &'a str,
    tax_name: &'a str,
    amount: &'a str,
}

/// The table of lines: code, description and quantity, and when `priced` the price,
/// discount, tax and amount.
fn line_table<'a>(
    t: &T,
    codes: &HashMap<String, String>,
    priced: bool,
    lines: impl Iterator<Item = LineView<'a>>,
) -> (Vec<Column>, Vec<Vec<String>>) {
    let mut columns = vec![Column::new(t.t("field-code"), Align::Left), Column::fill(t.t("field-description"))];
    if priced {
        columns.extend([
            Column::new(t.t("print-quantity"), Align::Right),
            Column::new(t.t("field-unit-price"), Align::Right),
            Column::new(t.t("print-discount"), Align::Right),
            Column::new(t.t("field-tax"), Align::Left),
            Column::new(t.t("field-amount"), Align::Right),
        ]);
    } else {
        columns.push(Column::new(t.t("field-quantity"), Align::Right));
    }
    let rows = lines
        .map(|l| {
            let mut row = vec![
                l.product_id.and_then(|p| codes.get(p).cloned()).unwrap_or_default(),
                l.description.to_string(),
                format_decimal(l.quantity, t.locale),
            ];
            if priced {
                row.extend([
                    t.money(l.unit_price),
                    if l.discount == "0" { String::new() } else { format_decimal(l.discount, t.locale) },
                    l.tax_name.to_string(),
                    t.money(l.amount),
                ]);
            }
            row
        })
        .collect();
    (columns, rows)
}

/// "BORRADOR" across a draft, "ANULADO" across a cancelled document.
fn watermark(t: &T, status: &str) -> Option<String> {
    match status {
        "draft" => Some(t.t("print-draft").to_uppercase()),
        "cancelled" => Some(t.t("status-cancelled").to_uppercase()),
        _ => None,
    }
}

fn footer(company: &m::Company) -> Option<String> {
    let f = [company.website.clone(), company.email.clone(), company.phone.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    (!f.is_empty()).then_some(f)
}

/// E-mails a purchase order's PDF to the supplier.
pub async fn email_purchase_order(st: &AppState, actor: &Actor, locale: &str, id: &str, input: &s::EmailIn) -> AppResult<s::EmailSent> {
    if st.mailer.is_none() {
        return Err(AppError::Refused("mail-not-configured"));
    }
    let t = T { catalog: &st.i18n, locale };
    let company = m::company(&st.app, actor).await?;
    let d = p::get(&st.app, actor, PurchaseKind::PurchaseOrder, id).await?;
    let (name, pdf) = purchase_pdf_of(st, actor, locale, &d).await?;
    let title = format!("{} {}", t.t("kind-purchase_order"), d.number.clone().unwrap_or_default());
    let subject = format!("{title} — {}", company.trade_name.clone().unwrap_or(company.legal_name.clone()));
    let text = format!("{} {title}.\n\n{}\n{}\n", t.t("mail-intro-purchase-order"), t.t("mail-regards"), company.legal_name);
    let attachment = app::mail::Attachment { filename: name, content_type: "application/pdf".into(), bytes: pdf };
    p::email_order(&st.app, actor, st.mailer.as_ref(), id, input, s::Outgoing { subject, text, pdf: attachment }).await
}

/// A purchase order or a reception note as PDF, addressed to the supplier.
pub async fn purchase_pdf(st: &AppState, actor: &Actor, locale: &str, kind: PurchaseKind, id: &str) -> AppResult<(String, Vec<u8>)> {
    let d = p::get(&st.app, actor, kind, id).await?;
    purchase_pdf_of(st, actor, locale, &d).await
}

/// The PDF of a purchasing document already read.
async fn purchase_pdf_of(st: &AppState, actor: &Actor, locale: &str, d: &p::PurchaseDocument) -> AppResult<(String, Vec<u8>)> {
    let kind = PurchaseKind::from_code(&d.kind).unwrap_or(PurchaseKind::PurchaseOrder);
    let t = T { catalog: &st.i18n, locale };
    let company = m::company(&st.app, actor).await?;
    let party = m::get_party(&st.app, actor, PartyRole::Supplier, &d.supplier_id).await.ok();
    let codes = product_codes(st, actor, d.lines.iter().filter_map(|l| l.product_id.clone())).await;
    let priced = kind == PurchaseKind::PurchaseOrder;
    let (columns, rows) = line_table(&t, &codes, priced, d.lines.iter().map(|l| line_view!(l)));
    let symbol = if company.currency == "EUR" { "€" } else { "$" };
    let mut totals = Vec::new();
    if priced {
        totals.push(Field::new(t.t("field-untaxed-amount"), t.money(&d.untaxed_amount)));
        for tx in &d.taxes {
            totals.push(Field::new(tx.name.clone(), t.money(&tx.tax)));
        }
        totals.push(Field::new(t.t("field-total"), format!("{symbol} {}", t.money(&d.total))));
    }
    let mut references = Vec::new();
    if let Some(order_id) = &d.purchase_order_id {
        if let Ok(o) = p::get(&st.app, actor, PurchaseKind::PurchaseOrder, order_id).await {
            references.push(Field::new(t.t("kind-purchase_order"), o.number.unwrap_or_default()));
        }
    }
    if let Some(r) = d.supplier_reference.as_ref().filter(|r| !r.is_empty()) {
        references.push(Field::new(t.t("field-supplier-reference"), r.clone()));
    }
    if let Some(v) = &d.expected_date {
        references.push(Field::new(t.t("field-expected-date"), v.clone()));
    }
    if let Some(w) = &d.warehouse_id {
        if let Ok(w) = app::stock::get_warehouse(&st.app, actor, w).await {
            references.push(Field::new(t.t("field-warehouse"), w.name));
        }
    }
    if let (Some(p), true) = (&party, priced) {
        let terms = if p.payment_terms_days == 0 { t.t("print-cash") } else { format!("{} {}", p.payment_terms_days, t.t("print-days")) };
        references.push(Field::new(t.t("print-terms"), terms));
    }
    let mut labels = labels(&t);
    labels.customer = t.t("field-supplier");
    let doc = PrintDocument {
        title: t.t(&format!("kind-{}", d.kind)),
        number: d.number.clone().unwrap_or_else(|| t.t("status-draft")),
        letter: None,
        letter_code: None,
        date: d.issue_date.clone(),
        due_date: None,
        company: company_party(&t, &company),
        logo: logo(st, actor).await,
        customer: customer_party(&t, &d.supplier_name, d.supplier_tax_id.as_deref(), party.as_ref(), &company.tax_scheme),
        references,
        columns,
        rows,
        tax_breakdown: if priced {
            d.taxes.iter().map(|x| PrintTax { label: x.name.clone(), base: t.money(&x.base), tax: t.money(&x.tax) }).collect()
        } else {
            vec![]
        },
        totals,
        amount_in_words: None,
        notes: d.notes.clone().filter(|n| !n.is_empty()),
        footer: footer(&company),
        watermark: watermark(&t, &d.status),
        lang: locale.to_string(),
        labels,
    };
    let name = format!("{}-{}.pdf", doc.title, d.number.clone().unwrap_or_else(|| d.id.chars().take(8).collect())).replace(' ', "-");
    let pdf = render_pdf(st, move |p| p.document(&doc)).await?;
    Ok((name, pdf))
}

/// A customer's account statement as PDF.
pub async fn statement_pdf(st: &AppState, actor: &Actor, locale: &str, customer_id: &str) -> AppResult<(String, Vec<u8>)> {
    let t = T { catalog: &st.i18n, locale };
    let stmt = ar::statement(&st.app, actor, customer_id, &AgeingParams::default()).await?;
    let company = m::company(&st.app, actor).await?;
    let party = m::get_party(&st.app, actor, PartyRole::Customer, customer_id).await.ok();
    let columns = vec![
        Column::new(t.t("field-date"), Align::Left),
        Column::fill(t.t("field-document")),
        Column::new(t.t("field-due-date"), Align::Left),
        Column::new(t.t("field-debit"), Align::Right),
        Column::new(t.t("field-credit"), Align::Right),
        Column::new(t.t("field-balance"), Align::Right),
    ];
    let blank = |v: &str| if v == "0.00" || v == "0" { String::new() } else { t.money(v) };
    let rows = stmt
        .entries
        .iter()
        .map(|e| {
            vec![
                e.date.clone(),
                format!("{} {}", t.t(&format!("kind-{}", e.kind)), e.number.clone().unwrap_or_default()),
                e.due_date.clone().unwrap_or_default(),
                blank(&e.debit),
                blank(&e.credit),
                t.money(&e.balance),
            ]
        })
        .collect();
    let a = &stmt.ageing;
    let ageing = vec![
        Field::new(t.t("ageing-current"), t.money(&a.current)),
        Field::new(t.t("ageing-1-30"), t.money(&a.days_1_30)),
        Field::new(t.t("ageing-31-60"), t.money(&a.days_31_60)),
        Field::new(t.t("ageing-61-90"), t.money(&a.days_61_90)),
        Field::new(t.t("ageing-over-90"), t.money(&a.over_90)),
    ];
    let symbol = if company.currency == "EUR" { "€" } else { "$" };
    let doc = PrintStatement {
        title: t.t("statement-title"),
        date: stmt.as_of.clone(),
        period: None,
        company: company_party(&t, &company),
        logo: logo(st, actor).await,
        customer: customer_party(&t, &stmt.customer_name, stmt.customer_tax_id.as_deref(), party.as_ref(), &company.tax_scheme),
        references: vec![],
        columns,
        rows,
        ageing,
        balance: Field::new(format!("{} {}", t.t("field-balance"), stmt.as_of), format!("{symbol} {}", t.money(&stmt.balance))),
        notes: None,
        footer: None,
        watermark: None,
        lang: locale.to_string(),
        labels: labels(&t),
    };
    let name = format!("{}-{}.pdf", t.t("statement-title"), stmt.customer_name).replace(' ', "-");
    let pdf = render_pdf(st, move |p| p.statement(&doc)).await?;
    Ok((name, pdf))
}

/// The HTTP answer for a PDF: shown in the browser, saved under a readable name.
pub fn pdf_response(name: &str, pdf: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let ascii: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{ascii}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        pdf,
    )
        .into_response()
}

/// Sends a document's PDF to the customer (or to whom `input` says).
pub async fn email_document(
    st: &AppState,
    actor: &Actor,
    locale: &str,
    kind: DocKind,
    id: &str,
    input: &s::EmailIn,
) -> AppResult<s::EmailSent> {
    if st.mailer.is_none() {
        return Err(AppError::Refused("mail-not-configured"));
    }
    let t = T { catalog: &st.i18n, locale };
    let d = s::get_document(&st.app, actor, kind, id).await?;
    let company = m::company(&st.app, actor).await?;
    let (name, pdf) = pdf_of(st, actor, locale, &d).await?;
    let title = format!("{} {}", t.t(&format!("kind-{}", d.kind)), d.number.clone().unwrap_or_default());
    let subject = format!("{title} — {}", company.trade_name.clone().unwrap_or(company.legal_name.clone()));
    let text = format!("{} {title}.\n\n{}\n{}\n", t.t("mail-intro"), t.t("mail-regards"), company.legal_name);
    let attachment = app::mail::Attachment { filename: name, content_type: "application/pdf".into(), bytes: pdf };
    s::email_document(&st.app, actor, st.mailer.as_ref(), kind, id, input, s::Outgoing { subject, text, pdf: attachment }).await
}
