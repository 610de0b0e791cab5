//! Customer analytics from the posted invoices, on SQLite and PostgreSQL: with two
//! customers the models say there is not enough data (and RFM is still there); with a
//! year of invoices from a dozen customers, a customer who buys every fortnight up to
//! now is in a better segment, is more likely alive and worth more than one who bought
//! once long ago; a fully credited invoice is no purchase; the figures record when they
//! were computed; who may not see or recompute them is refused; bad filters are refused.

use app::analytics::{self as an, CustomerParams, ModelState};
use app::master::{self as m, PartyIn, PartyRole, ProductIn, TaxRateIn};
use app::sales::{self as s, DocumentIn, LineIn, PartIn, TransitionIn};
use app::testkit::databases;
use app::{Actor, App, AppError};
use domain::access::Role;
use domain::sales::{DocKind, Transition};
use time::{Date, Duration};

fn admin() -> Actor {
    Actor::system("test")
}

fn as_role(role: Role) -> Actor {
    Actor { role, username: format!("{role:?}"), ..Actor::system("x") }
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn days_ago(n: i64) -> String {
    (today() - Duration::days(n)).to_string()
}

async fn service(app: &App) -> String {
    let a = admin();
    let iva = m::save_tax_rate(app, &a, None, &TaxRateIn { name: Some("IVA 21 %".into()), rate: Some("21".into()), ..Default::default() })
        .await
        .expect("tax rate");
    let p = ProductIn {
        code: Some("S1".into()),
        name: Some("Servicio".into()),
        kind: Some("service".into()),
        unit: Some("u".into()),
        sale_price: Some("100.00".into()),
        cost: Some("1".into()),
        tax_rate_id: Some(iva.id),
        ..Default::default()
    };
    m::save_product(app, &a, None, &p).await.expect("service").id
}

async fn customer(app: &App, name: &str) -> String {
    m::create_party(app, &admin(), PartyRole::Customer, &PartyIn { name: Some(name.into()), ..Default::default() })
        .await
        .expect("customer")
        .id
}

/// A posted invoice of `qty` services (100.00 each, before tax) `ago` days ago.
async fn invoice(app: &App, customer: &str, product: &str, ago: i64, qty: u32) -> String {
    let a = admin();
    let input = DocumentIn {
        customer_id: Some(customer.into()),
        issue_date: Some(days_ago(ago)),
        lines: Some(vec![LineIn { product_id: Some(product.into()), quantity: Some(qty.to_string()), ..Default::default() }]),
        ..Default::default()
    };
    let doc = s::create_document(app, &a, DocKind::Invoice, &input).await.expect("invoice");
    s::transition(app, &a, DocKind::Invoice, &doc.id, Transition::Post, &TransitionIn::default()).await.expect("post");
    doc.id
}

fn find<'a>(list: &'a an::CustomerList, id: &str) -> &'a an::CustomerFigures {
    list.items.iter().find(|c| c.customer_id == id).unwrap_or_else(|| panic!("customer {id} not in the figures"))
}

const SEGMENT_RANK: [&str; 11] = [
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose_them",
    "hibernating",
    "lost",
];

#[tokio::test]
async fn the_figures_come_from_posted_invoices_and_rank_a_faithful_customer_above_a_lost_one() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let svc = service(app).await;

        // Nothing computed yet.
        let before = an::models(app, &a).await.expect(label);
        assert_eq!(before.state, ModelState::NotComputed, "{label}");
        assert!(before.computed_at.is_none(), "{label}");

        // Two customers: RFM figures, but no models, and the state says why.
        let fiel = customer(app, "Almacén Fiel").await;
        let perdido = customer(app, "Bazar Perdido").await;
        for ago in (7..=357).step_by(14) {
            invoice(app, &fiel, &svc, ago, 2).await;
        }
        // BG/NBD counts a customer who never came back as alive (P(alive) = 1 when x = 0: a
        // drop-out can only follow a repeat purchase), so the lost one bought twice, long ago.
        invoice(app, &perdido, &svc, 350, 1).await;
        invoice(app, &perdido, &svc, 330, 1).await;
        let small = an::refresh(app, &a).await.expect(label);
        assert_eq!(small.state, ModelState::NotEnoughData, "{label}");
        assert_eq!((small.customers, small.repeat_customers), (2, 2), "{label}");
        assert!(small.message.as_deref().unwrap_or("").contains("2 customers with repeat purchases"), "{label}: {:?}", small.message);
        assert!(small.bgnbd.is_none() && small.gamma_gamma.is_none(), "{label}");
        let list = an::customers(app, &a, &CustomerParams::default()).await.expect(label);
        assert_eq!(list.items.len(), 2, "{label}");
        assert!(list.items.iter().all(|c| c.p_alive.is_none() && c.clv.is_none()), "{label}: no model, no number");
        // 26 invoices of 200.00 before tax
        assert_eq!(find(&list, &fiel).total_spend, "5200.00", "{label}");

        // A dozen more customers with some repeat purchases over the year.
        let mut others = Vec::new();
        for i in 0..12i64 {
            let c = customer(app, &format!("Cliente {i:02}")).await;
            let step = 20 + 9 * i;
            let mut ago = 5 + 11 * i;
            while ago < 365 {
                invoice(app, &c, &svc, ago, 1 + (i % 3) as u32).await;
                ago += step;
            }
            others.push(c);
        }
        // An invoice credited in full is no purchase: this customer bought once, not twice.
        let once = customer(app, "Devuelve Todo").await;
        invoice(app, &once, &svc, 200, 1).await;
        let returned = invoice(app, &once, &svc, 30, 3).await;
        let cn = s::credit_invoice(app, &a, &returned, &PartIn::default()).await.expect(label);
        s::transition(app, &a, DocKind::CreditNote, &cn.id, Transition::Post, &TransitionIn::default()).await.expect(label);

        let started = app::clock::now_text();
        let models = an::refresh(app, &a).await.expect(label);
        assert_eq!(models.state, ModelState::Ok, "{label}: {:?}", models.message);
        assert!(models.computed_at.as_deref().is_some_and(|t| t >= started.as_str()), "{label}: computed_at {:?}", models.computed_at);
        assert_eq!(models.as_of.as_deref(), Some(today().to_string().as_str()), "{label}");
        assert_eq!(models.customers, 15, "{label}");
        let bg = models.bgnbd.as_ref().expect("BG/NBD fitted");
        assert!([bg.r, bg.alpha, bg.a, bg.b].iter().all(|v| v.is_finite() && *v > 0.0), "{label}: {bg:?}");
        assert!(models.gamma_gamma.is_some(), "{label}");
        assert_eq!(models.segments.iter().map(|s| s.customers).sum::<i64>(), 15, "{label}");

        let list = an::customers(app, &a, &CustomerParams { limit: Some(100), ..Default::default() }).await.expect(label);
        assert_eq!(list.items.len(), 15, "{label}");
        let (f, p) = (find(&list, &fiel), find(&list, &perdido));
        let rank = |s: &str| SEGMENT_RANK.iter().position(|x| *x == s).unwrap_or(99);
        assert!(rank(&f.segment) < rank(&p.segment), "{label}: {} vs {}", f.segment, p.segment);
        assert_eq!((f.r, f.f, f.m), (5, 5, 5), "{label}");
        assert_eq!(p.segment, "lost", "{label}");
        let (fa, pa) = (f.p_alive.expect("p_alive"), p.p_alive.expect("p_alive"));
        assert!(fa > 0.9 && fa > pa, "{label}: P(alive) {fa} vs {pa}");
        let clv = |c: &an::CustomerFigures| c.clv.as_deref().expect("clv").parse::<f64>().expect("decimal");
        assert!(clv(f) > clv(p) && clv(f) > 1000.0, "{label}: CLV {:?} vs {:?}", f.clv, p.clv);
        assert!(f.expected_purchases.expect("expected purchases") > 10.0, "{label}");
        // money as exact decimal strings with the currency's two decimals
        assert!(f.clv.as_deref().is_some_and(|v| v.split_once('.').is_some_and(|(_, d)| d.len() == 2)), "{label}: {:?}", f.clv);
        let d = find(&list, &once);
        assert_eq!((d.purchase_days, d.total_spend.as_str()), (1, "100.00"), "{label}: a fully credited invoice is no purchase");
        assert_eq!(d.p_alive, Some(1.0), "{label}: the model's convention for one-time buyers");

        // The customer's own figures, for their page.
        let mine = an::customer(app, &a, &fiel).await.expect(label).expect("figures");
        assert_eq!(mine.segment, f.segment, "{label}");

        // Sorted by risk: the least likely alive first; filters by segment and P(alive).
        let risk =
            an::customers(app, &a, &CustomerParams { sort: Some("risk".into()), limit: Some(3), ..Default::default() }).await.expect(label);
        assert_eq!(risk.items.len(), 3, "{label}");
        assert_eq!(risk.next_offset, Some(3), "{label}");
        assert!(risk.items.windows(2).all(|w| w[0].p_alive <= w[1].p_alive), "{label}");
        assert!(risk.items[0].p_alive <= Some(pa), "{label}");
        let alive =
            an::customers(app, &a, &CustomerParams { min_p_alive: Some(0.9), limit: Some(100), ..Default::default() }).await.expect(label);
        assert!(alive.items.iter().any(|c| c.customer_id == fiel), "{label}");
        assert!(alive.items.iter().all(|c| c.p_alive.is_some_and(|p| p >= 0.9)), "{label}");
        let lost = an::customers(app, &a, &CustomerParams { segment: Some("lost".into()), ..Default::default() }).await.expect(label);
        assert!(lost.items.iter().all(|c| c.segment == "lost") && lost.items.iter().any(|c| c.customer_id == perdido), "{label}");
        let grid = an::grid(app, &a).await.expect(label);
        assert_eq!(grid.len(), 25, "{label}");
        assert_eq!(grid.iter().map(|c| c.customers).sum::<i64>(), 15, "{label}");

        // Headline figures: the at-risk count matches the list below one half.
        let k = an::kpis(app, &a).await.expect(label);
        let below = an::customers(app, &a, &CustomerParams { max_p_alive: Some(0.4999), limit: Some(100), ..Default::default() })
            .await
            .expect(label);
        assert_eq!(k.customers_at_risk, Some(below.items.len() as i64), "{label}");
        assert_eq!(k.computed_at, models.computed_at, "{label}");

        // Who may not: a salesperson neither reads nor recomputes; marketing reads only.
        for role in [Role::Salesperson, Role::Billing, Role::Warehouse] {
            assert!(matches!(an::customers(app, &as_role(role), &CustomerParams::default()).await, Err(AppError::Forbidden)), "{label}");
        }
        assert!(matches!(an::refresh(app, &as_role(Role::Marketing)).await, Err(AppError::Forbidden)), "{label}");
        assert!(an::models(app, &as_role(Role::Marketing)).await.is_ok(), "{label}");
        let k = an::kpis(app, &as_role(Role::Marketing)).await.expect(label);
        assert!(k.sales_this_period.is_none() && k.customers_at_risk.is_some(), "{label}: marketing sees no money coming in");

        // Bad filters: refused, each by name.
        let bad = CustomerParams {
            segment: Some("champion".into()),
            min_p_alive: Some(1.5),
            max_p_alive: Some(f64::NAN),
            sort: Some("price".into()),
            limit: Some(0),
            offset: Some(-1),
            format: None,
        };
        match an::customers(app, &a, &bad).await {
            Err(AppError::Invalid(e)) => {
                let mut fields: Vec<&str> = e.0.keys().map(String::as_str).collect();
                fields.sort_unstable();
                assert_eq!(fields, ["limit", "max_p_alive", "min_p_alive", "offset", "segment", "sort"], "{label}");
            }
            other => panic!("{label}: expected invalid, got {other:?}"),
        }
        // A manager recomputes; the snapshot is replaced, not added to.
        let again = an::refresh(app, &as_role(Role::Manager)).await.expect(label);
        assert!(again.computed_at > models.computed_at, "{label}");
        assert_eq!(again.customers, 15, "{label}");
        db.cleanup().await;
    }
}
