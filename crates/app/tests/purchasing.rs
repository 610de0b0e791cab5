//! Purchase to pay through the use cases, on SQLite and PostgreSQL: an order received in
//! two parts (stock and weighted-average cost), the supplier's invoice against what was
//! received, its number refused when repeated, the payment refused to whoever recorded
//! the invoice and accepted from a colleague, and what is owed afterwards.

use app::master::{self as m, PartyIn, PartyRole, ProductIn, TaxRateIn};
use app::purchasing::{self as p, PayablesParams, PurchaseOrderIn, ReceiveIn, SupplierAllocationIn, SupplierInvoiceIn, SupplierPaymentIn};
use app::sales::{LineIn, PartLineIn};
use app::stock::{self as st, AdjustmentIn, StockParams};
use app::testkit::databases;
use app::{Actor, AppError};
use domain::access::Role;
use domain::purchase::PurchaseKind;
use domain::sales::Transition;

fn as_role(role: Role, name: &str) -> Actor {
    Actor { role, username: name.into(), ..Actor::system("x") }
}

fn refusal<T: std::fmt::Debug>(r: Result<T, AppError>) -> String {
    match r {
        Err(AppError::Refused(k)) => k.to_string(),
        Err(AppError::Invalid(f)) => f.0.values().next().cloned().unwrap_or_default(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_purchase_goes_from_order_to_payment() {
    for db in databases().await {
        let (app, label) = (&db.app, db.label);
        let admin = Actor::system("test");
        let buyer = as_role(Role::Purchasing, "compras");
        let storeman = as_role(Role::Warehouse, "deposito");
        let clerk = as_role(Role::Billing, "ana");
        let treasurer = as_role(Role::Billing, "luis");
        let iva = m::save_tax_rate(
            app,
            &admin,
            None,
            &TaxRateIn { name: Some("IVA 21 %".into()), rate: Some("21".into()), ..Default::default() },
        )
        .await
        .expect(label);
        let goods = m::save_product(
            app,
            &admin,
            None,
            &ProductIn {
                code: Some("TOR-6".into()),
                name: Some("Tornillo 6 mm".into()),
                kind: Some("goods".into()),
                unit: Some("u".into()),
                sale_price: Some("150.00".into()),
                cost: Some("50.00".into()),
                tax_rate_id: Some(iva.id.clone()),
                ..Default::default()
            },
        )
        .await
        .expect(label);
        let supplier = m::create_party(
            app,
            &admin,
            PartyRole::Supplier,
            &PartyIn { name: Some("Bulonera del Sur".into()), payment_terms_days: Some(30), ..Default::default() },
        )
        .await
        .expect(label);
        st::adjust(
            app,
            &admin,
            &AdjustmentIn {
                product_id: Some(goods.id.clone()),
                quantity: Some("10".into()),
                reason: Some("Stock inicial".into()),
                ..Default::default()
            },
        )
        .await
        .expect(label);

        // Purchasing orders 10 at 100.00 and confirms at once: the number is taken.
        let po = p::create_order(
            app,
            &buyer,
            &PurchaseOrderIn {
                supplier_id: Some(supplier.id.clone()),
                lines: Some(vec![LineIn {
                    product_id: Some(goods.id.clone()),
                    quantity: Some("10".into()),
                    unit_price: Some("100.00".into()),
                    ..Default::default()
                }]),
                confirm: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect(label);
        assert_eq!(
            (po.status.as_str(), po.number.as_deref(), po.total.as_str()),
            ("confirmed", Some("0001-00000001"), "1210.00"),
            "{label}"
        );
        // A salesperson may not buy.
        assert!(matches!(
            p::create_order(app, &as_role(Role::Salesperson, "v"), &PurchaseOrderIn::default()).await,
            Err(AppError::Forbidden)
        ));

        // The warehouse receives 4, then tries 7 more (beyond the order), then the rest.
        let line_id = po.lines[0].id.clone();
        let part = |q: &str| ReceiveIn {
            lines: Some(vec![PartLineIn { line_id: line_id.clone(), quantity: Some(q.into()) }]),
            ..Default::default()
        };
        let r1 = p::receive(app, &storeman, &po.id, &part("4")).await.expect(label);
        assert_eq!(r1.number.as_deref(), Some("0001-00000001"), "{label}");
        let after = p::get(app, &admin, PurchaseKind::PurchaseOrder, &po.id).await.expect(label);
        assert_eq!((after.progress.as_str(), after.lines[0].received.as_str()), ("partially_received", "4"), "{label}");
        assert_eq!(refusal(p::receive(app, &storeman, &po.id, &part("7")).await), "quantity-more-than-left", "{label}");
        p::receive(app, &storeman, &po.id, &ReceiveIn::default()).await.expect(label);
        let levels = st::levels(app, &admin, &StockParams { product_id: Some(goods.id.clone()), ..Default::default() }).await.expect(label);
        assert_eq!(levels[0].on_hand, "20", "{label}");
        // 10 at 50.00 and 10 at 100.00 average to 75.00.
        assert_eq!(m::get_product(app, &admin, &goods.id).await.expect(label).cost, "75.00", "{label}");
        assert!(st::mismatches(app).await.expect(label).is_empty(), "{label}: on hand equals the sum of moves");

        // Billing records the supplier's invoice; the number is compared without spaces or case.
        let inv = p::invoice_order(
            app,
            &clerk,
            &po.id,
            &SupplierInvoiceIn {
                supplier_invoice_number: Some("a 0003-123".into()),
                post: Some(true),
                issue_date: Some("2026-01-10".into()),
                ..Default::default()
            },
        )
        .await
        .expect(label);
        assert_eq!(
            (inv.total.as_str(), inv.due_date.as_deref(), inv.supplier_invoice_number.as_deref()),
            ("1210.00", Some("2026-02-09"), Some("A0003-123")),
            "{label}"
        );
        let done = p::get(app, &admin, PurchaseKind::PurchaseOrder, &po.id).await.expect(label);
        assert_eq!(done.status, "done", "{label}: all received and invoiced");

        // A second order invoiced under the same supplier number is refused.
        let po2 = p::create_order(
            app,
            &buyer,
            &PurchaseOrderIn {
                supplier_id: Some(supplier.id.clone()),
                lines: Some(vec![LineIn { product_id: Some(goods.id.clone()), quantity: Some("1".into()), ..Default::default() }]),
                ..Default::default()
            },
        )
        .await
        .expect(label);
        assert_eq!(po2.lines[0].unit_price, "75.00", "{label}: a purchase line starts from the article's cost");
        p::transition(app, &buyer, PurchaseKind::PurchaseOrder, &po2.id, Transition::Confirm).await.expect(label);
        p::receive(app, &storeman, &po2.id, &ReceiveIn::default()).await.expect(label);
        let dup = SupplierInvoiceIn { supplier_invoice_number: Some("A0003-123".into()), ..Default::default() };
        assert_eq!(refusal(p::invoice_order(app, &clerk, &po2.id, &dup).await), "supplier-invoice-duplicate", "{label}");

        // Whoever recorded the invoice may not pay it; a colleague may; not more than owed.
        let pay = |amount: &str| SupplierPaymentIn {
            supplier_id: Some(supplier.id.clone()),
            amount: Some(amount.into()),
            allocations: Some(vec![SupplierAllocationIn { supplier_invoice_id: inv.id.clone(), amount: amount.into() }]),
            ..Default::default()
        };
        assert_eq!(refusal(p::create_payment(app, &clerk, &pay("1000.00")).await), "sod-payment-same-user", "{label}");
        assert_eq!(refusal(p::create_payment(app, &treasurer, &pay("1300.00")).await), "payment-more-than-owed", "{label}");
        let paid = p::create_payment(app, &treasurer, &pay("1000.00")).await.expect(label);
        assert_eq!(paid.number.as_deref(), Some("0001-00000001"), "{label}");
        let ageing = p::ageing(app, &admin, &PayablesParams { as_of: Some("2026-03-01".into()), ..Default::default() }).await.expect(label);
        assert_eq!((ageing.totals.days_1_30.as_str(), ageing.totals.total.as_str()), ("210.00", "210.00"), "{label}");
        let account = p::account(app, &admin, &supplier.id).await.expect(label);
        assert_eq!((account.entries.len(), account.balance.as_str()), (2, "210.00"), "{label}");
    }
}
