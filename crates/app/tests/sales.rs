//! Order to cash through the use cases, on SQLite and PostgreSQL: a sale's whole life,
//! the refusals a user meets, and gap-free numbering under concurrent posting.

use app::master::{self as m, PartyIn, PartyRole, ProductIn, TaxRateIn};
use app::receivables::{self as ar, AgeingParams};
use app::sales::{self as s, AllocationIn, DocumentIn, LineIn, PartIn, PartLineIn, ReceiptIn, TransitionIn};
use app::stock::{self as st, AdjustmentIn, StockParams};
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

struct Fixture {
    customer: String,
    goods: String,
    service: String,
}

async fn fixture(app: &App, credit_limit: Option<&str>) -> Fixture {
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
    let customer = m::create_party(
        app,
        &a,
        PartyRole::Customer,
        &PartyIn {
            name: Some("Ferretería Ñandú".into()),
            payment_terms_days: Some(30),
            credit_limit: credit_limit.map(str::to_string),
            ..Default::default()
        },
    )
    .await
    .expect("customer");
    Fixture { customer: customer.id, goods: goods.id, service: service.id }
}

fn line(product: &str, q: &str) -> LineIn {
    LineIn { product_id: Some(product.into()), quantity: Some(q.into()), ..Default::default() }
}

async fn on_hand(app: &App, product: &str) -> (String, String, String) {
    let l = st::levels(app, &admin(), &StockParams { product_id: Some(product.into()), ..Default::default() }).await.expect("levels");
    let l = &l[0];
    (l.on_hand.clone(), l.reserved.clone(), l.available.clone())
}

fn refused(r: Result<impl std::fmt::Debug, AppError>) -> String {
    match r {
        Err(AppError::Refused(k)) => k.to_string(),
        Err(AppError::Invalid(f)) => f.0.values().next().cloned().unwrap_or_default(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_sale_goes_from_quote_to_cash_and_every_step_shows() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let f = fixture(app, None).await;
        st::adjust(
            app,
            &a,
            &AdjustmentIn {
                product_id: Some(f.goods.clone()),
                quantity: Some("10".into()),
                reason: Some("Stock inicial".into()),
                ..Default::default()
            },
        )
        .await
        .expect(label);

        // Quote → sent → converted into an order.
        let quote = s::create_document(
            app,
            &a,
            DocKind::Quote,
            &DocumentIn {
                customer_id: Some(f.customer.clone()),
                lines: Some(vec![line(&f.goods, "2"), line(&f.service, "1")]),
                ..Default::default()
            },
        )
        .await
        .expect(label);
        assert_eq!((quote.untaxed_amount.as_str(), quote.tax_amount.as_str(), quote.total.as_str()), ("250.00", "52.50", "302.50"));
        assert_eq!(quote.number, None, "a draft has no number");
        let sent = s::transition(app, &a, DocKind::Quote, &quote.id, Transition::Send, &TransitionIn::default()).await.expect(label);
        assert_eq!(sent.number.as_deref(), Some("0001-00000001"));
        let order = s::convert_quote(app, &a, &quote.id).await.expect(label);
        assert_eq!(order.origin_id.as_deref(), Some(quote.id.as_str()));
        assert_eq!(s::get_document(app, &a, DocKind::Quote, &quote.id).await.expect(label).status, "accepted");

        // Confirming reserves the goods.
        let order = s::transition(app, &a, DocKind::Order, &order.id, Transition::Confirm, &TransitionIn::default()).await.expect(label);
        assert_eq!((order.status.as_str(), order.number.as_deref()), ("confirmed", Some("0001-00000001")));
        assert!(order.tracking_token.as_ref().is_some_and(|t| t.len() >= 40));
        assert_eq!(on_hand(app, &f.goods).await, ("10".into(), "2".into(), "8".into()), "{label}");

        // A partial delivery, then more than is left is refused, then the rest.
        let goods_line = order.lines.iter().find(|l| l.stocked).expect("goods line").id.clone();
        let part =
            PartIn { lines: Some(vec![PartLineIn { line_id: goods_line.clone(), quantity: Some("1".into()) }]), ..Default::default() };
        let d1 = s::deliver_order(app, &a, &order.id, &part).await.expect(label);
        assert_eq!((d1.status.as_str(), d1.number.as_deref()), ("posted", Some("0001-00000001")));
        assert_eq!(on_hand(app, &f.goods).await, ("9".into(), "1".into(), "8".into()), "{label}");
        assert_eq!(s::get_document(app, &a, DocKind::Order, &order.id).await.expect(label).progress, "partially_delivered");
        let too_much =
            PartIn { lines: Some(vec![PartLineIn { line_id: goods_line.clone(), quantity: Some("2".into()) }]), ..Default::default() };
        assert_eq!(refused(s::deliver_order(app, &a, &order.id, &too_much).await), "quantity-more-than-left");
        let d2 = s::deliver_order(app, &a, &order.id, &PartIn::default()).await.expect(label);
        assert_eq!(d2.number.as_deref(), Some("0001-00000002"));
        assert_eq!(on_hand(app, &f.goods).await, ("8".into(), "0".into(), "8".into()), "{label}");
        assert_eq!(refused(s::deliver_order(app, &a, &order.id, &PartIn::default()).await), "nothing-to-deliver");

        // Invoice what was delivered (goods) and ordered (the service), posted at once.
        let inv = s::invoice_order(app, &a, &order.id, &PartIn { post: Some(true), ..Default::default() }).await.expect(label);
        assert_eq!((inv.status.as_str(), inv.number.as_deref(), inv.total.as_str()), ("posted", Some("0001-00000001"), "302.50"));
        assert_eq!(inv.taxes.len(), 1);
        assert_eq!((inv.taxes[0].base.as_str(), inv.taxes[0].tax.as_str()), ("250.00", "52.50"));
        let due = time::Date::parse(inv.due_date.as_deref().expect("due"), time::macros::format_description!("[year]-[month]-[day]"))
            .expect("date");
        let issued = time::Date::parse(&inv.issue_date, time::macros::format_description!("[year]-[month]-[day]")).expect("date");
        assert_eq!((due - issued).whole_days(), 30, "due date from the customer's payment terms");
        let o = s::get_document(app, &a, DocKind::Order, &order.id).await.expect(label);
        assert_eq!((o.status.as_str(), o.progress.as_str()), ("done", "invoiced"), "{label}");
        assert_eq!(refused(s::invoice_order(app, &a, &order.id, &PartIn::default()).await), "nothing-to-invoice");

        // A posted invoice is immutable and cannot be posted twice.
        assert_eq!(
            refused(
                s::update_document(app, &a, DocKind::Invoice, &inv.id, &DocumentIn { notes: Some("x".into()), ..Default::default() }).await
            ),
            "doc-posted-immutable"
        );
        assert_eq!(
            refused(s::transition(app, &a, DocKind::Invoice, &inv.id, Transition::Post, &TransitionIn::default()).await),
            "doc-already-posted"
        );

        // A partial payment; paying more than owed is refused and takes no number.
        let r1 = s::create_receipt(
            app,
            &a,
            &ReceiptIn { customer_id: Some(f.customer.clone()), amount: Some("100".into()), ..Default::default() },
        )
        .await
        .expect(label);
        assert_eq!((r1.number.as_deref(), r1.allocations.len()), (Some("0001-00000001"), 1));
        let over = ReceiptIn { customer_id: Some(f.customer.clone()), amount: Some("500".into()), ..Default::default() };
        assert_eq!(refused(s::create_receipt(app, &a, &over).await), "payment-more-than-owed");
        let explicit = ReceiptIn {
            customer_id: Some(f.customer.clone()),
            amount: Some("300".into()),
            allocations: Some(vec![AllocationIn { invoice_id: inv.id.clone(), amount: "300".into() }]),
            ..Default::default()
        };
        assert_eq!(refused(s::create_receipt(app, &a, &explicit).await), "payment-more-than-owed");
        let inv_now = s::get_document(app, &a, DocKind::Invoice, &inv.id).await.expect(label);
        assert_eq!(inv_now.open_amount, "202.50", "{label}");

        // A credit note for one returned article: goods back in stock, the invoice settled by it.
        let cn = s::credit_invoice(
            app,
            &a,
            &inv.id,
            &PartIn {
                lines: Some(vec![PartLineIn {
                    line_id: inv.lines.iter().find(|l| l.stocked).expect("line").id.clone(),
                    quantity: Some("1".into()),
                }]),
                reason: Some("Devolución".into()),
                returns_goods: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect(label);
        assert_eq!(cn.total, "121.00");
        let cn = s::transition(app, &a, DocKind::CreditNote, &cn.id, Transition::Post, &TransitionIn::default()).await.expect(label);
        assert_eq!(cn.number.as_deref(), Some("0001-00000001"));
        assert_eq!(on_hand(app, &f.goods).await.0, "9", "{label}: the returned article is back");
        assert_eq!(s::get_document(app, &a, DocKind::Invoice, &inv.id).await.expect(label).open_amount, "81.50");

        // The rest pays it off; the order's chain shows it all and the order reads as paid.
        let r2 = s::create_receipt(
            app,
            &a,
            &ReceiptIn { customer_id: Some(f.customer.clone()), amount: Some("81.50".into()), ..Default::default() },
        )
        .await
        .expect(label);
        assert_eq!(r2.number.as_deref(), Some("0001-00000002"), "{label}: the refused receipts left no gap");
        assert_eq!(s::get_document(app, &a, DocKind::Order, &order.id).await.expect(label).progress, "paid");
        let chain = s::order_chain(app, &a, &order.id).await.expect(label);
        let kinds: Vec<&str> = chain.iter().map(|d| d.kind.as_str()).collect();
        for k in ["quote", "delivery", "invoice", "credit_note", "receipt"] {
            assert!(kinds.contains(&k), "{label}: chain {kinds:?} lacks {k}");
        }
        let (tracked, _) = s::track(app, order.tracking_token.as_deref().expect("token")).await.expect(label);
        assert_eq!(tracked.id, order.id);

        // The statement: 302.50 charged, 100 + 121 + 81.50 credited, nothing owed.
        let stmt = ar::statement(app, &a, &f.customer, &AgeingParams::default()).await.expect(label);
        assert_eq!(stmt.entries.len(), 4);
        assert_eq!(stmt.balance, "0.00", "{label}");
        let ageing = ar::ageing(app, &a, &AgeingParams::default()).await.expect(label);
        assert!(ageing.items.is_empty(), "{label}: nothing open");

        // On hand always equals the sum of moves; the audit chain holds.
        assert!(st::mismatches(app).await.expect(label).is_empty());
        assert!(app::audit::verify(app).await.expect(label).first_bad.is_none());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_orders_are_refused_and_change_nothing() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let f = fixture(app, Some("200")).await;
        let new_order = |lines: Vec<LineIn>| DocumentIn { customer_id: Some(f.customer.clone()), lines: Some(lines), ..Default::default() };

        // Zero, negative and missing quantities, an unknown article, no lines at all.
        for (lines, field) in [
            (vec![line(&f.goods, "0")], "lines.0.quantity"),
            (vec![line(&f.goods, "-1")], "lines.0.quantity"),
            (vec![line("0192f000-0000-7000-8000-00000000dead", "1")], "lines.0.product_id"),
            (vec![], "lines"),
        ] {
            match s::create_document(app, &a, DocKind::Order, &new_order(lines)).await {
                Err(AppError::Invalid(e)) => assert!(e.0.contains_key(field), "{label}: {e:?}"),
                other => panic!("{label}: expected invalid {field}, got {other:?}"),
            }
        }
        // A salesperson cannot change the price or give a discount.
        let mut cheap = line(&f.goods, "1");
        cheap.unit_price = Some("1.00".into());
        match s::create_document(app, &as_role(Role::Salesperson), DocKind::Order, &new_order(vec![cheap])).await {
            Err(AppError::Invalid(e)) => assert_eq!(e.0.get("lines.0.unit_price").map(String::as_str), Some("price-override-forbidden")),
            other => panic!("{label}: {other:?}"),
        }

        // Over the credit limit (200): refused; a salesperson cannot override; a manager can.
        let big = s::create_document(app, &a, DocKind::Order, &new_order(vec![line(&f.goods, "2")])).await.expect(label);
        assert_eq!(
            refused(s::transition(app, &a, DocKind::Order, &big.id, Transition::Confirm, &TransitionIn::default()).await),
            "credit-limit-exceeded"
        );
        let over = TransitionIn { override_credit_limit: Some(true) };
        assert!(matches!(
            s::transition(app, &as_role(Role::Salesperson), DocKind::Order, &big.id, Transition::Confirm, &over).await,
            Err(AppError::Forbidden)
        ));
        let unchanged = s::get_document(app, &a, DocKind::Order, &big.id).await.expect(label);
        assert_eq!((unchanged.status.as_str(), unchanged.number.as_deref()), ("draft", None), "{label}: refusals change nothing");
        let ok = s::transition(app, &as_role(Role::Manager), DocKind::Order, &big.id, Transition::Confirm, &over).await.expect(label);
        assert_eq!(ok.credit_override_by.as_deref(), Some("Manager"));

        // Not in stock: the delivery is refused whole, stock and the order untouched.
        assert_eq!(refused(s::deliver_order(app, &a, &big.id, &PartIn::default()).await), "stock-insufficient");
        assert_eq!(on_hand(app, &f.goods).await, ("0".into(), "2".into(), "-2".into()), "{label}");
        assert_eq!(s::get_document(app, &a, DocKind::Order, &big.id).await.expect(label).lines[0].delivered, "0");
        // Invoicing goods not delivered.
        assert_eq!(refused(s::invoice_order(app, &a, &big.id, &PartIn::default()).await), "nothing-to-invoice");
        // An archived customer cannot be sold to.
        m::archive_party(app, &a, PartyRole::Customer, &f.customer).await.expect(label);
        match s::create_document(app, &a, DocKind::Order, &new_order(vec![line(&f.goods, "1")])).await {
            Err(AppError::Invalid(e)) => assert_eq!(e.0.get("customer_id").map(String::as_str), Some("customer-archived")),
            other => panic!("{label}: {other:?}"),
        }
        // Cancelling a confirmed order gives its reservation back.
        s::transition(app, &a, DocKind::Order, &big.id, Transition::Cancel, &TransitionIn::default()).await.expect(label);
        assert_eq!(on_hand(app, &f.goods).await.1, "0", "{label}");
        db.cleanup().await;
    }
}

/// Many posters at once — several connection pools, as several server processes would
/// have — each posting its own draft invoice, and two posting the same one: numbers run
/// 1..N with no gap and no repeat, and the doubly-posted invoice is posted once.
#[tokio::test]
async fn concurrent_posting_numbers_without_gaps_or_repeats() {
    for db in databases().await {
        let label = db.label;
        let f = fixture(&db.app, None).await;
        let a = admin();
        let n = 24;
        let mut drafts = Vec::new();
        for _ in 0..n {
            let d = s::create_document(
                &db.app,
                &a,
                DocKind::Invoice,
                &DocumentIn { customer_id: Some(f.customer.clone()), lines: Some(vec![line(&f.service, "1")]), ..Default::default() },
            )
            .await
            .expect(label);
            drafts.push(d.id);
        }
        let mut apps = Vec::new();
        for _ in 0..4 {
            apps.push(App::open(&db.url).await.expect("second pool"));
        }
        let mut tasks = Vec::new();
        for (i, id) in drafts.iter().enumerate() {
            // Every fourth invoice is posted by two posters at once.
            let posters = if i % 4 == 0 { 2 } else { 1 };
            for p in 0..posters {
                let app = apps[(i + p) % apps.len()].clone();
                let id = id.clone();
                tasks.push(tokio::spawn(async move {
                    loop {
                        match s::transition(&app, &admin(), DocKind::Invoice, &id, Transition::Post, &TransitionIn::default()).await {
                            Err(AppError::Refused("database-busy")) => tokio::task::yield_now().await,
                            other => return other,
                        }
                    }
                }));
            }
        }
        let mut numbers = Vec::new();
        let mut refusals = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(doc) => numbers.push(doc.number.expect("number")),
                Err(AppError::Refused("doc-already-posted")) | Err(AppError::Conflict) => refusals += 1,
                Err(e) => panic!("{label}: {e:?}"),
            }
        }
        numbers.sort();
        let expected: Vec<String> = (1..=n).map(|i| format!("0001-{i:08}")).collect();
        assert_eq!(numbers, expected, "{label}");
        assert_eq!(refusals, n / 4, "{label}: each doubly-posted invoice refused once");
        for app in apps {
            app.db.close().await;
        }
        db.cleanup().await;
    }
}

/// The stock policy: refused by default, allowed when the business says so; only a
/// manager or administrator changes it; the point of sale numbers the documents.
#[tokio::test]
async fn the_stock_policy_and_point_of_sale_are_the_business_s_choice() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let f = fixture(app, None).await;
        let order = s::create_document(
            app,
            &a,
            DocKind::Order,
            &DocumentIn { customer_id: Some(f.customer.clone()), lines: Some(vec![line(&f.goods, "2")]), ..Default::default() },
        )
        .await
        .expect(label);
        s::transition(app, &a, DocKind::Order, &order.id, Transition::Confirm, &TransitionIn::default()).await.expect(label);
        assert_eq!(refused(s::deliver_order(app, &a, &order.id, &PartIn::default()).await), "stock-insufficient");
        let change = st::SalesSettingsIn { allow_negative_stock: Some(true), point_of_sale: Some(7), ..Default::default() };
        assert!(matches!(st::update_settings(app, &as_role(Role::Salesperson), &change).await, Err(AppError::Forbidden)));
        assert!(matches!(
            st::update_settings(app, &a, &st::SalesSettingsIn { point_of_sale: Some(0), ..Default::default() }).await,
            Err(AppError::Invalid(_))
        ));
        let now = st::update_settings(app, &as_role(Role::Manager), &change).await.expect(label);
        assert!(now.allow_negative_stock && now.point_of_sale == 7);
        let d = s::deliver_order(app, &a, &order.id, &PartIn::default()).await.expect(label);
        assert_eq!(d.number.as_deref(), Some("0007-00000001"), "{label}: numbered at the new point of sale");
        assert_eq!(on_hand(app, &f.goods).await.0, "-2", "{label}");
        assert!(st::mismatches(app).await.expect(label).is_empty());
        db.cleanup().await;
    }
}

/// Two draft invoices for what was delivered once: the first to be posted takes it, the
/// second is refused when posted and keeps no number.
#[tokio::test]
async fn what_was_delivered_is_invoiced_once() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let f = fixture(app, None).await;
        st::adjust(
            app,
            &a,
            &AdjustmentIn {
                product_id: Some(f.goods.clone()),
                quantity: Some("5".into()),
                reason: Some("inicial".into()),
                ..Default::default()
            },
        )
        .await
        .expect(label);
        let input = DocumentIn {
            customer_id: Some(f.customer.clone()),
            lines: Some(vec![line(&f.goods, "2")]),
            confirm: Some(true),
            ..Default::default()
        };
        let order = s::create_document(app, &a, DocKind::Order, &input).await.expect(label);
        assert_eq!(order.status, "confirmed");
        s::deliver_order(app, &a, &order.id, &PartIn::default()).await.expect(label);
        let first = s::invoice_order(app, &a, &order.id, &PartIn::default()).await.expect(label);
        let second = s::invoice_order(app, &a, &order.id, &PartIn::default()).await.expect(label);
        s::transition(app, &a, DocKind::Invoice, &first.id, Transition::Post, &TransitionIn::default()).await.expect(label);
        assert_eq!(
            refused(s::transition(app, &a, DocKind::Invoice, &second.id, Transition::Post, &TransitionIn::default()).await),
            "invoice-more-than-delivered"
        );
        let second = s::get_document(app, &a, DocKind::Invoice, &second.id).await.expect(label);
        assert_eq!((second.status.as_str(), second.number.as_deref()), ("draft", None), "{label}");
        let order = s::get_document(app, &a, DocKind::Order, &order.id).await.expect(label);
        assert_eq!(order.lines[0].invoiced, "2", "{label}");
        db.cleanup().await;
    }
}
