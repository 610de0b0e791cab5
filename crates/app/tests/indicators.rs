//! Logistic service indicators from the documents, on SQLite and PostgreSQL, checked on a
//! hand-made month of three orders.

use app::master::{self as m, PartyIn, PartyRole, ProductIn, TaxRateIn};
use app::sales::{self as s, DocumentIn, LineIn, PartIn, PartLineIn, TransitionIn};
use app::stats::StatsParams;
use app::stock::{self as st, AdjustmentIn};
use app::testkit::databases;
use app::{Actor, AppError};
use domain::access::Role;
use domain::sales::{DocKind, Transition};

#[tokio::test]
async fn on_time_in_full_returns_and_invoice_errors_of_a_month() {
    for db in databases().await {
        let (app, a, label) = (&db.app, Actor::system("test"), db.label);
        let rate =
            m::save_tax_rate(app, &a, None, &TaxRateIn { name: Some("IVA 21 %".into()), rate: Some("21".into()), ..Default::default() })
                .await
                .expect(label);
        let mut goods = Vec::new();
        for code in ["A1", "A2"] {
            let p = m::save_product(
                app,
                &a,
                None,
                &ProductIn {
                    code: Some(code.into()),
                    name: Some(code.into()),
                    kind: Some("goods".into()),
                    unit: Some("u".into()),
                    sale_price: Some("10".into()),
                    cost: Some("5".into()),
                    tax_rate_id: Some(rate.id.clone()),
                    ..Default::default()
                },
            )
            .await
            .expect(label);
            st::adjust(
                app,
                &a,
                &AdjustmentIn {
                    product_id: Some(p.id.clone()),
                    quantity: Some("100".into()),
                    reason: Some("inicial".into()),
                    ..Default::default()
                },
            )
            .await
            .expect(label);
            goods.push(p.id);
        }
        let c = m::create_party(app, &a, PartyRole::Customer, &PartyIn { name: Some("Cliente".into()), ..Default::default() })
            .await
            .expect(label);
        let order = |date: &str, promised: Option<&str>, lines: Vec<(usize, &str)>| DocumentIn {
            customer_id: Some(c.id.clone()),
            issue_date: Some(date.into()),
            promised_date: promised.map(str::to_string),
            confirm: Some(true),
            lines: Some(
                lines
                    .into_iter()
                    .map(|(p, q)| LineIn { product_id: Some(goods[p].clone()), quantity: Some(q.into()), ..Default::default() })
                    .collect(),
            ),
            ..Default::default()
        };
        let on = |d: &str| PartIn { issue_date: Some(d.into()), ..Default::default() };
        let posted_invoice = |id: String| async move {
            s::invoice_order(app, &Actor::system("test"), &id, &PartIn { post: Some(true), ..Default::default() }).await.expect("invoice")
        };

        // A: promised the 10th, all delivered the 8th, invoiced: on time, complete, correct.
        let oa = s::create_document(app, &a, DocKind::Order, &order("2026-01-05", Some("2026-01-10"), vec![(0, "2"), (1, "1")]))
            .await
            .expect(label);
        s::deliver_order(app, &a, &oa.id, &on("2026-01-08")).await.expect(label);
        posted_invoice(oa.id.clone()).await;
        // B: promised the 7th, 3 of 4 delivered the 9th (late, incomplete), 1 returned damaged.
        let ob = s::create_document(app, &a, DocKind::Order, &order("2026-01-06", Some("2026-01-07"), vec![(0, "4")])).await.expect(label);
        let part =
            PartIn { lines: Some(vec![PartLineIn { line_id: ob.lines[0].id.clone(), quantity: Some("3".into()) }]), ..on("2026-01-09") };
        s::deliver_order(app, &a, &ob.id, &part).await.expect(label);
        let ib = posted_invoice(ob.id.clone()).await;
        let cn = s::credit_invoice(
            app,
            &a,
            &ib.id,
            &PartIn {
                lines: Some(vec![PartLineIn { line_id: ib.lines[0].id.clone(), quantity: Some("1".into()) }]),
                reason: Some("dañado".into()),
                returns_goods: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect(label);
        s::transition(app, &a, DocKind::CreditNote, &cn.id, Transition::Post, &TransitionIn::default()).await.expect(label);
        // C: no promise, delivered the same day, invoiced, then a price correction (no goods back).
        let oc = s::create_document(app, &a, DocKind::Order, &order("2026-01-07", None, vec![(1, "1")])).await.expect(label);
        s::deliver_order(app, &a, &oc.id, &on("2026-01-07")).await.expect(label);
        let ic = posted_invoice(oc.id.clone()).await;
        let price = s::credit_invoice(app, &a, &ic.id, &PartIn { reason: Some("precio".into()), ..Default::default() }).await.expect(label);
        s::transition(app, &a, DocKind::CreditNote, &price.id, Transition::Post, &TransitionIn::default()).await.expect(label);
        // An order outside the month does not count.
        s::create_document(app, &a, DocKind::Order, &order("2026-02-02", Some("2026-02-03"), vec![(0, "1")])).await.expect(label);

        let month = StatsParams { from: Some("2026-01-01".into()), to: Some("2026-01-31".into()), ..Default::default() };
        let r = app::indicators::logistics(app, &a, &month).await.expect(label);
        assert_eq!(r.orders, 3, "{label}");
        assert_eq!(r.on_time, Some(50.0), "{label}: A on time, B late, C promised nothing");
        assert_eq!(r.in_full_lines, Some(75.0), "{label}: lines complete 2 + 0 + 1 of 4");
        assert_eq!(r.in_full_quantity, Some(87.5), "{label}: (3 + 3 + 1) of (3 + 4 + 1)");
        assert_eq!(r.complete_orders, Some(66.7), "{label}: A and C of three");
        assert_eq!(r.invoice_errors, Some(33.3), "{label}: C's invoice was corrected");
        assert_eq!(r.average_lead_time_days, Some(2.0), "{label}: (3 + 3 + 0) / 3 days");
        assert_eq!(r.returns, Some(14.3), "{label}: 1 returned of 7 delivered");
        assert_eq!(r.returns_by_cause.len(), 1);
        assert_eq!((r.returns_by_cause[0].cause.as_str(), r.returns_by_cause[0].quantity.as_str()), ("dañado", "1"));
        assert_eq!(r.out_of_stock, Some(0.0), "{label}: both articles still available");
        assert_eq!(r.logistic_costs_to_sales, None, "{label}: costs are not recorded yet");
        assert!(matches!(
            app::indicators::logistics(app, &Actor { role: Role::Marketing, ..Actor::system("m") }, &month).await,
            Err(AppError::Forbidden)
        ));
        db.cleanup().await;
    }
}

/// Cohorts of first purchase: two customers start in January, one buys again in March;
/// one starts in February.
#[tokio::test]
async fn retention_by_cohort_of_first_purchase() {
    for db in databases().await {
        let (app, a, label) = (&db.app, Actor::system("test"), db.label);
        let service = m::save_product(
            app,
            &a,
            None,
            &ProductIn {
                code: Some("S1".into()),
                name: Some("Servicio".into()),
                kind: Some("service".into()),
                unit: Some("h".into()),
                sale_price: Some("10".into()),
                cost: Some("1".into()),
                ..Default::default()
            },
        )
        .await
        .expect(label);
        let mut ids = Vec::new();
        for n in ["Uno", "Dos", "Tres"] {
            ids.push(
                m::create_party(app, &a, PartyRole::Customer, &PartyIn { name: Some(n.into()), ..Default::default() })
                    .await
                    .expect(label)
                    .id,
            );
        }
        for (c, d) in [(0, "2026-01-10"), (1, "2026-01-20"), (0, "2026-03-05"), (2, "2026-02-14")] {
            let inv = s::create_document(
                app,
                &a,
                DocKind::Invoice,
                &DocumentIn {
                    customer_id: Some(ids[c].clone()),
                    issue_date: Some(d.into()),
                    lines: Some(vec![LineIn { product_id: Some(service.id.clone()), quantity: Some("1".into()), ..Default::default() }]),
                    ..Default::default()
                },
            )
            .await
            .expect(label);
            s::transition(app, &a, DocKind::Invoice, &inv.id, Transition::Post, &TransitionIn::default()).await.expect(label);
        }
        let p = StatsParams { from: Some("2026-01-01".into()), to: Some("2026-04-30".into()), ..Default::default() };
        let r = app::indicators::cohorts(app, &a, &p).await.expect(label);
        assert_eq!(r.items.len(), 2, "{label}");
        assert_eq!((r.items[0].cohort.as_str(), r.items[0].customers), ("2026-01", 2));
        assert_eq!(r.items[0].retained, vec![100.0, 0.0, 50.0, 0.0], "{label}: Jan, Feb, Mar, Apr");
        assert_eq!((r.items[1].cohort.as_str(), r.items[1].customers), ("2026-02", 1));
        assert_eq!(r.items[1].retained, vec![100.0, 0.0, 0.0], "{label}");
        // A marketer reads the same cohorts (customer analytics), a warehouse clerk does not.
        let marketer = Actor { role: Role::Marketing, ..Actor::system("m") };
        let seen = app::indicators::cohorts(app, &marketer, &p).await.expect(label);
        assert_eq!(seen.items.len(), 2, "{label}: the marketer sees both cohorts");
        let clerk = Actor { role: Role::Warehouse, ..Actor::system("w") };
        assert!(matches!(app::indicators::cohorts(app, &clerk, &p).await, Err(AppError::Forbidden)), "{label}");
        assert!(matches!(app::indicators::retention(app, &clerk, &p).await, Err(AppError::Forbidden)), "{label}");
        assert!(app::indicators::retention(app, &marketer, &p).await.is_ok(), "{label}: marketing reads churn and recency");

        // Two quotes answered in the period, one became an order.
        for convert in [false, true] {
            let qd = s::create_document(
                app,
                &a,
                DocKind::Quote,
                &DocumentIn {
                    customer_id: Some(ids[1].clone()),
                    issue_date: Some("2026-02-01".into()),
                    lines: Some(vec![LineIn { product_id: Some(service.id.clone()), quantity: Some("1".into()), ..Default::default() }]),
                    ..Default::default()
                },
            )
            .await
            .expect(label);
            s::transition(app, &a, DocKind::Quote, &qd.id, Transition::Send, &TransitionIn::default()).await.expect(label);
            if convert {
                s::convert_quote(app, &a, &qd.id).await.expect(label);
            }
        }
        // Jan 15 – Mar 10 (55 days) against Nov 21 – Jan 14: Uno bought before (Jan 10) and
        // again (Mar 5), so nobody was lost. As of Mar 10: Uno 5 days, Tres 24, Dos 49.
        let p = StatsParams { from: Some("2026-01-15".into()), to: Some("2026-03-10".into()), ..Default::default() };
        let r = app::indicators::retention(app, &a, &p).await.expect(label);
        assert_eq!((r.active_before, r.retained, r.churn), (1, 1, Some(0.0)), "{label}");
        assert_eq!((r.recency[0].days.as_str(), r.recency[0].customers, r.recency[0].percent), ("0-30", 2, Some(66.7)), "{label}");
        assert_eq!((r.recency[1].days.as_str(), r.recency[1].customers), ("31-60", 1), "{label}");
        assert_eq!((r.quotes, r.quote_to_order), (2, Some(50.0)), "{label}");
        db.cleanup().await;
    }
}
