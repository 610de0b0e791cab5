//! Sales statistics through the use cases, on SQLite and PostgreSQL: a few months of
//! invoices, a draft that must not count and a credit note that subtracts, read back by
//! month, customer, article and salesperson, against the previous period, and refused
//! when the question is malformed or the user may not see sales.

use app::master::{self as m, PartyIn, PartyRole, ProductIn, SalespersonIn, TaxRateIn};
use app::sales::{self as s, DocumentIn, LineIn, PartIn, PartLineIn, TransitionIn};
use app::stats::{self as st, Stats, StatsParams};
use app::testkit::databases;
use app::{Actor, App, AppError};
use domain::access::Role;
use domain::sales::{DocKind, Transition};

fn admin() -> Actor {
    Actor::system("test")
}

fn as_role(role: Role) -> Actor {
    Actor { role, username: format!("{role:?}"), ..Actor::system("x") }
}

fn line(product: &str, q: &str) -> LineIn {
    LineIn { product_id: Some(product.into()), quantity: Some(q.into()), ..Default::default() }
}

fn range(from: &str, to: &str) -> StatsParams {
    StatsParams { from: Some(from.into()), to: Some(to.into()), ..Default::default() }
}

struct Shop {
    nandu: String,
    zorzal: String,
    goods: String,
    service: String,
    ana: String,
}

async fn shop(app: &App) -> Shop {
    let a = admin();
    let iva = m::save_tax_rate(app, &a, None, &TaxRateIn { name: Some("IVA 21 %".into()), rate: Some("21".into()), ..Default::default() })
        .await
        .expect("tax rate");
    let product = |code: &str, kind: &str, price: &str| ProductIn {
        code: Some(code.into()),
        name: Some(format!("Artículo {code}")),
        kind: Some(kind.into()),
        unit: Some("u".into()),
        sale_price: Some(price.into()),
        cost: Some("1".into()),
        tax_rate_id: Some(iva.id.clone()),
        ..Default::default()
    };
    let goods = m::save_product(app, &a, None, &product("A1", "goods", "100.00")).await.expect("goods");
    let service = m::save_product(app, &a, None, &product("S1", "service", "50.00")).await.expect("service");
    let customer = |name: &str| PartyIn { name: Some(name.into()), payment_terms_days: Some(30), ..Default::default() };
    let nandu = m::create_party(app, &a, PartyRole::Customer, &customer("Almacén Ñandú")).await.expect("customer");
    let zorzal = m::create_party(app, &a, PartyRole::Customer, &customer("Bazar Zorzal")).await.expect("customer");
    let ana = m::save_salesperson(app, &a, None, &SalespersonIn { name: Some("Ana Vendedora".into()), ..Default::default() })
        .await
        .expect("salesperson");
    Shop { nandu: nandu.id, zorzal: zorzal.id, goods: goods.id, service: service.id, ana: ana.id }
}

/// A posted invoice (or, with `post` false, a draft one); returns its id.
async fn invoice(app: &App, customer: &str, date: &str, salesperson: Option<&str>, lines: Vec<LineIn>, post: bool) -> String {
    let a = admin();
    let input = DocumentIn {
        customer_id: Some(customer.into()),
        issue_date: Some(date.into()),
        salesperson_id: salesperson.map(str::to_string),
        lines: Some(lines),
        ..Default::default()
    };
    let doc = s::create_document(app, &a, DocKind::Invoice, &input).await.expect("invoice");
    if post {
        s::transition(app, &a, DocKind::Invoice, &doc.id, Transition::Post, &TransitionIn::default()).await.expect("post");
    }
    doc.id
}

/// `(key, label, documents, quantity, untaxed, total)` of each row, to compare at a glance.
fn table(stats: &Stats) -> Vec<(String, String, i64, Option<String>, String, String)> {
    stats
        .rows
        .iter()
        .map(|r| (r.key.clone(), r.label.clone(), r.documents, r.quantity.clone(), r.untaxed.clone(), r.total.clone()))
        .collect()
}

fn row(
    key: &str,
    label: &str,
    documents: i64,
    quantity: Option<&str>,
    untaxed: &str,
    total: &str,
) -> (String, String, i64, Option<String>, String, String) {
    (key.into(), label.into(), documents, quantity.map(str::to_string), untaxed.into(), total.into())
}

fn invalid<T: std::fmt::Debug>(r: Result<T, AppError>) -> (String, String) {
    match r {
        Err(AppError::Invalid(e)) if e.0.len() == 1 => e.0.into_iter().next().unwrap_or_default(),
        other => panic!("expected one invalid field, got {other:?}"),
    }
}

#[tokio::test]
async fn sales_statistics_add_posted_invoices_and_subtract_credit_notes() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let f = shop(app).await;

        // Before the range: 50.00 (only in the previous period of `compare`).
        invoice(app, &f.zorzal, "2024-12-31", None, vec![line(&f.service, "1")], true).await;
        // January: Ñandú 2 A1 + 1 S1 by Ana = 250.00 + 52.50 tax; Zorzal 3 S1, nobody's = 150.00 + 31.50.
        let first = invoice(app, &f.nandu, "2025-01-10", Some(&f.ana), vec![line(&f.goods, "2"), line(&f.service, "1")], true).await;
        invoice(app, &f.zorzal, "2025-01-20", None, vec![line(&f.service, "3")], true).await;
        // February: only a draft, which is no sale.
        invoice(app, &f.zorzal, "2025-02-14", Some(&f.ana), vec![line(&f.goods, "10")], false).await;
        // March: Ñandú 3 A1 by Ana = 300.00 + 63.00.
        invoice(app, &f.nandu, "2025-03-05", Some(&f.ana), vec![line(&f.goods, "3")], true).await;
        // April: one A1 of the January invoice comes back (−100.00 − 21.00, Ana's, as the
        // invoice); Zorzal 1 S1 by Ana on the range's last day = 50.00 + 10.50.
        let inv = s::get_document(app, &a, DocKind::Invoice, &first).await.expect(label);
        let goods_line = inv.lines.iter().find(|l| l.stocked).expect("goods line").id.clone();
        let part = PartIn { lines: Some(vec![PartLineIn { line_id: goods_line, quantity: Some("1".into()) }]), ..Default::default() };
        let cn = s::credit_invoice(app, &a, &first, &part).await.expect(label);
        let dated = DocumentIn { issue_date: Some("2025-04-02".into()), ..Default::default() };
        s::update_document(app, &a, DocKind::CreditNote, &cn.id, &dated).await.expect(label);
        let cn = s::transition(app, &a, DocKind::CreditNote, &cn.id, Transition::Post, &TransitionIn::default()).await.expect(label);
        assert_eq!((cn.issue_date.as_str(), cn.untaxed_amount.as_str(), cn.total.as_str()), ("2025-04-02", "100.00", "121.00"));
        invoice(app, &f.zorzal, "2025-04-30", Some(&f.ana), vec![line(&f.service, "1")], true).await;

        // By month: February is there at zero, April is the return less the new sale.
        let jan_apr = range("2025-01-01", "2025-04-30");
        let months = st::by_period(app, &a, &jan_apr).await.expect(label);
        assert_eq!((months.from.as_str(), months.to.as_str()), ("2025-01-01", "2025-04-30"));
        assert_eq!(
            table(&months),
            vec![
                row("2025-01", "2025-01", 2, None, "400.00", "484.00"),
                row("2025-02", "2025-02", 0, None, "0.00", "0.00"),
                row("2025-03", "2025-03", 1, None, "300.00", "363.00"),
                row("2025-04", "2025-04", 2, None, "-50.00", "-60.50"),
            ],
            "{label}"
        );
        assert_eq!((months.untaxed.as_str(), months.total.as_str()), ("650.00", "786.50"), "{label}");

        // By year, reaching back to the December invoice.
        let years =
            st::by_period(app, &a, &StatsParams { group: Some("year".into()), ..range("2024-12-01", "2025-04-30") }).await.expect(label);
        assert_eq!(
            table(&years),
            vec![row("2024", "2024", 1, None, "50.00", "60.50"), row("2025", "2025", 5, None, "650.00", "786.50")],
            "{label}"
        );

        // By ISO week: 2025-01-10 (Friday) is in W02, 2025-01-20 (Monday) starts W04.
        let weeks =
            st::by_period(app, &a, &StatsParams { group: Some("week".into()), ..range("2025-01-06", "2025-01-26") }).await.expect(label);
        assert_eq!(
            table(&weeks),
            vec![
                row("2025-W02", "2025-W02", 1, None, "250.00", "302.50"),
                row("2025-W03", "2025-W03", 0, None, "0.00", "0.00"),
                row("2025-W04", "2025-W04", 1, None, "150.00", "181.50"),
            ],
            "{label}"
        );

        // By customer: Ñandú 250 + 300 − 100; Zorzal 150 + 50. Totals are of all sales.
        let customers = st::by_customer(app, &a, &jan_apr).await.expect(label);
        assert_eq!(
            table(&customers),
            vec![row(&f.nandu, "Almacén Ñandú", 3, None, "450.00", "544.50"), row(&f.zorzal, "Bazar Zorzal", 2, None, "200.00", "242.00"),],
            "{label}"
        );
        let top = st::by_customer(app, &a, &StatsParams { limit: Some(1), ..range("2025-01-01", "2025-04-30") }).await.expect(label);
        assert_eq!((top.rows.len(), top.rows[0].key.as_str(), top.untaxed.as_str()), (1, f.nandu.as_str(), "650.00"), "{label}");

        // By article, from the lines: A1 2 + 3 − 1 returned; S1 1 + 3 + 1.
        let articles = st::by_article(app, &a, &jan_apr).await.expect(label);
        assert_eq!(
            table(&articles),
            vec![
                row(&f.goods, "A1 · Artículo A1", 3, Some("4"), "400.00", "484.00"),
                row(&f.service, "S1 · Artículo S1", 3, Some("5"), "250.00", "302.50"),
            ],
            "{label}"
        );
        assert_eq!((articles.untaxed.as_str(), articles.total.as_str()), ("650.00", "786.50"));

        // By salesperson: Ana 250 + 300 − 100 + 50; nobody's: Zorzal's January invoice.
        let people = st::by_salesperson(app, &a, &jan_apr).await.expect(label);
        assert_eq!(
            table(&people),
            vec![row(&f.ana, "Ana Vendedora", 4, None, "500.00", "605.00"), row("", "—", 1, None, "150.00", "181.50")],
            "{label}"
        );

        // March–April (61 days) against 30 December–28 February (61 days).
        let (now, before) = st::compare(app, &a, &range("2025-03-01", "2025-04-30")).await.expect(label);
        assert_eq!((now.as_str(), before.as_str()), ("250.00", "450.00"), "{label}");

        // A range with no sales at all.
        let empty = st::by_customer(app, &a, &range("2020-01-01", "2020-12-31")).await.expect(label);
        assert!(empty.rows.is_empty());
        assert_eq!((empty.untaxed.as_str(), empty.total.as_str()), ("0.00", "0.00"));

        // Defaults: from the first of the month twelve months back to today, by month.
        let today = time::OffsetDateTime::now_utc().date();
        let d = st::by_period(app, &a, &StatsParams::default()).await.expect(label);
        let first = today.replace_day(1).expect("first").replace_year(today.year() - 1).expect("a year back");
        let text = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        assert_eq!((d.from.clone(), d.to.clone(), d.rows.len()), (text(first), text(today), 13), "{label}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn malformed_questions_are_refused_and_salespeople_see_no_statistics() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let with = |p: StatsParams| p;
        for (params, expected) in [
            (range("2025-02-30", "2025-03-31"), ("from", "date-invalid")),
            (range("2025-01-01", "31/03/2025"), ("to", "date-invalid")),
            (range("2025-04-01", "2025-03-31"), ("from", "range-invalid")),
            (range("2015-03-30", "2025-03-31"), ("from", "range-invalid")),
            (with(StatsParams { group: Some("quarter".into()), ..Default::default() }), ("group", "group-invalid")),
            (with(StatsParams { limit: Some(0), ..Default::default() }), ("limit", "limit-invalid")),
            (with(StatsParams { limit: Some(501), ..Default::default() }), ("limit", "limit-invalid")),
        ] {
            let expected = (expected.0.to_string(), expected.1.to_string());
            assert_eq!(invalid(st::by_period(app, &a, &params).await), expected, "{label}");
            assert_eq!(invalid(st::by_customer(app, &a, &params).await), expected, "{label}");
            assert_eq!(invalid(st::by_article(app, &a, &params).await), expected, "{label}");
            assert_eq!(invalid(st::by_salesperson(app, &a, &params).await), expected, "{label}");
            assert_eq!(invalid(st::compare(app, &a, &params).await), expected, "{label}");
        }
        // Ten years exactly is allowed.
        assert!(st::by_period(app, &a, &StatsParams { group: Some("year".into()), ..range("2015-03-31", "2025-03-31") }).await.is_ok());

        // Salespeople and back office read invoices, but not the whole company's sales.
        let p = StatsParams::default();
        for seller in [as_role(Role::Salesperson), as_role(Role::BackOffice), as_role(Role::Marketing)] {
            assert!(matches!(st::by_period(app, &seller, &p).await, Err(AppError::Forbidden)), "{label}");
            assert!(matches!(st::by_customer(app, &seller, &p).await, Err(AppError::Forbidden)), "{label}");
            assert!(matches!(st::by_article(app, &seller, &p).await, Err(AppError::Forbidden)), "{label}");
            assert!(matches!(st::by_salesperson(app, &seller, &p).await, Err(AppError::Forbidden)), "{label}");
            assert!(matches!(st::compare(app, &seller, &p).await, Err(AppError::Forbidden)), "{label}");
        }
        let seller = as_role(Role::Salesperson);
        // Permission comes before validation: a salesperson learns nothing from bad input.
        assert!(matches!(st::by_period(app, &seller, &range("x", "y")).await, Err(AppError::Forbidden)), "{label}");
        // Billing and managers read invoices, so they see statistics.
        for role in [Role::Billing, Role::Manager] {
            st::by_period(app, &as_role(role), &p).await.expect(label);
        }
        db.cleanup().await;
    }
}

/// Ranges and periods, without a database: ISO weeks across the new year, defaults,
/// the keys of bad parameters, the previous range.
mod rules {
    use app::stats::{periods, previous, query, Group, Query, StatsParams};
    use app::{AppError, AppResult};
    use time::macros::date;

    fn params(from: &str, to: &str) -> StatsParams {
        StatsParams { from: Some(from.into()), to: Some(to.into()), ..Default::default() }
    }

    fn invalid(r: AppResult<Query>) -> Vec<(String, String)> {
        match r {
            Err(AppError::Invalid(e)) => e.0.into_iter().collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn iso_weeks_cross_the_new_year_with_their_week_year() {
        assert_eq!(Group::Week.label(date!(2026 - 12 - 31)), "2026-W53");
        assert_eq!(Group::Week.label(date!(2027 - 01 - 03)), "2026-W53");
        assert_eq!(Group::Week.label(date!(2027 - 01 - 04)), "2027-W01");
        assert_eq!(Group::Week.label(date!(2024 - 12 - 30)), "2025-W01");
        let weeks = periods(date!(2026 - 12 - 28), date!(2027 - 01 - 11), Group::Week);
        let labels: Vec<&str> = weeks.iter().map(|w| w.0.as_str()).collect();
        assert_eq!(labels, ["2026-W53", "2027-W01", "2027-W02"]);
        assert_eq!((weeks[1].1, weeks[1].2), (date!(2027 - 01 - 04), date!(2027 - 01 - 10)));
        assert_eq!((weeks[2].1, weeks[2].2), (date!(2027 - 01 - 11), date!(2027 - 01 - 11)), "the last week is partial");
    }

    #[test]
    fn periods_cover_the_range_without_gaps() {
        let months = periods(date!(2024 - 01 - 15), date!(2024 - 03 - 01), Group::Month);
        assert_eq!(
            months,
            vec![
                ("2024-01".to_string(), date!(2024 - 01 - 15), date!(2024 - 01 - 31)),
                ("2024-02".to_string(), date!(2024 - 02 - 01), date!(2024 - 02 - 29)),
                ("2024-03".to_string(), date!(2024 - 03 - 01), date!(2024 - 03 - 01)),
            ]
        );
        assert_eq!(periods(date!(2024 - 12 - 31), date!(2026 - 01 - 01), Group::Year).len(), 3);
        assert_eq!(periods(date!(2024 - 02 - 27), date!(2024 - 03 - 01), Group::Day).len(), 4);
    }

    #[test]
    fn defaults_are_twelve_months_back_to_today_by_month() {
        let today = date!(2026 - 03 - 17);
        let q = query(&StatsParams::default(), today).expect("defaults");
        assert_eq!(q, Query { from: date!(2025 - 03 - 01), to: today, group: Group::Month, limit: 20 });
        let q = query(&StatsParams { to: Some("2026-01-31".into()), ..Default::default() }, today).expect("to only");
        assert_eq!(q.from, date!(2025 - 01 - 01), "default from follows to");
        let q = query(&StatsParams { from: Some(" ".into()), group: Some("week".into()), limit: Some(500), ..Default::default() }, today)
            .expect("blank is default");
        assert_eq!((q.from, q.group, q.limit), (date!(2025 - 03 - 01), Group::Week, 500));
    }

    #[test]
    fn bad_parameters_are_named_with_their_keys() {
        let today = date!(2026 - 03 - 17);
        let err = |p: &StatsParams| invalid(query(p, today));
        let kv = |f: &str, k: &str| vec![(f.to_string(), k.to_string())];
        assert_eq!(err(&params("2026-02-30", "2026-03-01")), kv("from", "date-invalid"));
        assert_eq!(err(&params("2026-01-01", "31/01/2026")), kv("to", "date-invalid"));
        assert_eq!(err(&params("2026-02-01", "2026-01-31")), kv("from", "range-invalid"));
        assert_eq!(err(&params("2016-03-16", "2026-03-17")), kv("from", "range-invalid"));
        assert!(query(&params("2016-03-17", "2026-03-17"), today).is_ok(), "ten years exactly");
        assert!(query(&params("2014-02-28", "2024-02-29"), today).is_ok(), "ten years back from 29 February");
        assert_eq!(err(&StatsParams { group: Some("quarter".into()), ..Default::default() }), kv("group", "group-invalid"));
        for limit in [0, 501, -1] {
            assert_eq!(err(&StatsParams { limit: Some(limit), ..Default::default() }), kv("limit", "limit-invalid"));
        }
        let all = err(&StatsParams { from: Some("x".into()), group: Some("x".into()), limit: Some(0), to: None });
        assert_eq!(all.len(), 3, "every problem at once: {all:?}");
    }

    #[test]
    fn the_previous_range_has_the_same_length() {
        assert_eq!(previous(date!(2026 - 11 - 01), date!(2026 - 11 - 30)), Some((date!(2026 - 10 - 02), date!(2026 - 10 - 31))));
        assert_eq!(previous(date!(2026 - 03 - 05), date!(2026 - 03 - 05)), Some((date!(2026 - 03 - 04), date!(2026 - 03 - 04))));
        assert_eq!(previous(date!(0001 - 01 - 01), date!(0001 - 01 - 05)), None);
    }
}
