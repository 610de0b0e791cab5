//! Transfers, counts and the stock valuation through the use cases, on SQLite and
//! PostgreSQL: goods moved from the central warehouse to a branch (on hand always the sum
//! of the moves, numbers without gaps, nothing changed by a refused transfer), a count
//! whose differences become adjustments at cost, and what the stock is worth.

use app::master::{self as m, ProductIn};
use app::stock::{self as st, AdjustmentIn, StockParams, WarehouseIn};
use app::stock_docs::{self as sd, CountIn, CountLineIn, Kind, TransferIn, TransferLineIn, ValuationParams};
use app::testkit::databases;
use app::{Actor, App, AppError};
use domain::access::Role;
use domain::stock::DocAction;

fn admin() -> Actor {
    Actor::system("test")
}

async fn article(app: &App, code: &str, kind: &str, cost: &str) -> String {
    let p = ProductIn {
        code: Some(code.into()),
        name: Some(format!("Artículo {code}")),
        kind: Some(kind.into()),
        unit: Some("u".into()),
        sale_price: Some("1".into()),
        cost: Some(cost.into()),
        ..Default::default()
    };
    m::save_product(app, &admin(), None, &p).await.expect("article").id
}

async fn stock(app: &App, product: &str, warehouse: Option<&str>, q: &str) {
    let input = AdjustmentIn {
        product_id: Some(product.into()),
        warehouse_id: warehouse.map(str::to_string),
        quantity: Some(q.into()),
        reason: Some("Stock inicial".into()),
    };
    st::adjust(app, &admin(), &input).await.expect("adjust");
}

/// The default warehouse and a second one.
async fn warehouses(app: &App) -> (String, String) {
    let a = st::list_warehouses(app, &admin()).await.expect("warehouses").into_iter().find(|w| w.is_default).expect("default").id;
    let input = WarehouseIn { code: Some("SUC".into()), name: Some("Sucursal Norte".into()), ..Default::default() };
    let b = st::save_warehouse(app, &admin(), None, &input).await.expect("warehouse").id;
    (a, b)
}

async fn on_hand(app: &App, product: &str, warehouse: &str) -> String {
    let p = StockParams { product_id: Some(product.into()), warehouse_id: Some(warehouse.into()), ..Default::default() };
    st::levels(app, &admin(), &p).await.expect("levels").first().map(|l| l.on_hand.clone()).unwrap_or_else(|| "0".into())
}

fn transfer(from: &str, to: &str, lines: &[(&str, &str)], done: bool) -> TransferIn {
    TransferIn {
        warehouse_id: Some(from.into()),
        to_warehouse_id: Some(to.into()),
        lines: Some(lines.iter().map(|(p, q)| TransferLineIn { product_id: Some(p.to_string()), quantity: Some(q.to_string()) }).collect()),
        reason: Some("Reposición de sucursal".into()),
        done: Some(done),
        ..Default::default()
    }
}

fn field_errors(r: Result<impl std::fmt::Debug, AppError>) -> Vec<(String, String)> {
    match r {
        Err(AppError::Invalid(f)) => f.0.into_iter().collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[tokio::test]
async fn a_transfer_moves_stock_between_warehouses_all_or_nothing() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let (wa, wb) = warehouses(app).await;
        let x = article(app, "TORN", "goods", "1500").await;
        let y = article(app, "TUER", "goods", "20").await;
        stock(app, &x, None, "10").await;
        stock(app, &y, None, "4").await;

        // A draft moves nothing and has no number; it can be changed.
        let t = sd::create_transfer(app, &a, &transfer(&wa, &wb, &[(&x, "2")], false)).await.expect(label);
        assert_eq!((t.status.as_str(), t.number.as_deref(), t.lines.len()), ("draft", None, 1), "{label}");
        assert_eq!(on_hand(app, &x, &wa).await, "10", "{label}");
        let change = TransferIn {
            lines: Some(vec![TransferLineIn { product_id: Some(x.clone()), quantity: Some("3".into()) }]),
            version: Some(t.version),
            ..Default::default()
        };
        let t = sd::update_transfer(app, &a, &t.id, &change).await.expect(label);
        assert_eq!((t.lines[0].quantity.as_str(), t.lines[0].value.as_str(), t.version), ("3", "4500.00", 2), "{label}");
        let stale = sd::update_transfer(app, &a, &t.id, &TransferIn { version: Some(1), ..Default::default() }).await;
        assert!(matches!(stale, Err(AppError::Conflict)), "{label}: {stale:?}");

        // Done: 10 → 7 in A, 0 → 3 in B, each move pointing to the transfer at cost.
        let done = sd::act(app, &a, Kind::Transfer, &t.id, DocAction::Done).await.expect(label);
        assert_eq!((done.status.as_str(), done.number.as_deref()), ("done", Some("0001-00000001")), "{label}");
        assert_eq!((on_hand(app, &x, &wa).await, on_hand(app, &x, &wb).await), ("7".into(), "3".into()), "{label}");
        let card = |w: &str| StockParams { product_id: Some(x.clone()), warehouse_id: Some(w.to_string()), ..Default::default() };
        let out = st::card(app, &a, &card(&wa)).await.expect(label).items.pop().expect("a move");
        assert_eq!(
            (out.kind.as_str(), out.quantity.as_str(), out.balance.as_str(), out.document_number.as_deref()),
            ("transfer_out", "-3", "7", Some("0001-00000001")),
            "{label}"
        );
        assert_eq!(out.stock_document_id.as_deref(), Some(t.id.as_str()), "{label}");
        let inn = st::card(app, &a, &card(&wb)).await.expect(label).items;
        assert_eq!(inn.iter().map(|m| (m.kind.as_str(), m.quantity.as_str())).collect::<Vec<_>>(), vec![("transfer_in", "3")], "{label}");
        assert!(st::mismatches(app).await.expect(label).is_empty(), "{label}: on hand is the sum of the moves");

        // Beyond what is on hand: refused, nothing moved, no number used.
        let r = sd::create_transfer(app, &a, &transfer(&wa, &wb, &[(&y, "1"), (&x, "8")], true)).await;
        assert_eq!(field_errors(r), vec![("lines.1.quantity".into(), "stock-insufficient".into())], "{label}");
        assert_eq!((on_hand(app, &x, &wa).await, on_hand(app, &y, &wa).await), ("7".into(), "4".into()), "{label}");
        assert_eq!(sd::list(app, &a, Kind::Transfer, &Default::default()).await.expect(label).items.len(), 1, "{label}: nothing saved");
        let back = sd::create_transfer(app, &a, &transfer(&wb, &wa, &[(&x, "1")], true)).await.expect(label);
        assert_eq!(back.number.as_deref(), Some("0001-00000002"), "{label}: gap-free");
        assert_eq!((on_hand(app, &x, &wa).await, on_hand(app, &x, &wb).await), ("8".into(), "2".into()), "{label}");

        // Bad input, named field by field.
        let r = sd::create_transfer(app, &a, &transfer(&wa, &wa, &[(&x, "1")], false)).await;
        assert_eq!(field_errors(r), vec![("to_warehouse_id".into(), "transfer-same-warehouse".into())], "{label}");
        let service = article(app, "FLETE", "service", "0").await;
        let r = sd::create_transfer(app, &a, &transfer(&wa, &wb, &[(&service, "1"), (&x, "0"), (&x, "1")], false)).await;
        assert_eq!(
            field_errors(r),
            vec![
                ("lines.0.product_id".into(), "product-not-stocked".into()),
                ("lines.1.quantity".into(), "quantity-not-positive".into()),
                ("lines.2.product_id".into(), "stock-line-duplicate".into()),
            ],
            "{label}"
        );
        let r = sd::create_transfer(app, &a, &TransferIn { warehouse_id: Some(wa.clone()), ..Default::default() }).await;
        assert_eq!(
            field_errors(r),
            vec![("lines".into(), "stock-doc-empty".into()), ("to_warehouse_id".into(), "field-required".into())],
            "{label}"
        );

        // Final states stay final; a draft can be cancelled and then nothing more.
        let r = sd::act(app, &a, Kind::Transfer, &done.id, DocAction::Cancel).await;
        assert!(matches!(r, Err(AppError::Refused("stock-doc-done"))), "{label}: {r:?}");
        let r = sd::update_transfer(app, &a, &done.id, &TransferIn::default()).await;
        assert!(matches!(r, Err(AppError::Refused("stock-doc-done"))), "{label}: {r:?}");
        let d = sd::create_transfer(app, &a, &transfer(&wa, &wb, &[(&y, "1")], false)).await.expect(label);
        let c = sd::act(app, &a, Kind::Transfer, &d.id, DocAction::Cancel).await.expect(label);
        assert_eq!((c.status.as_str(), c.cancelled_by.as_deref(), c.number), ("cancelled", Some(a.username.as_str()), None), "{label}");
        let r = sd::act(app, &a, Kind::Transfer, &d.id, DocAction::Done).await;
        assert!(matches!(r, Err(AppError::Refused("stock-doc-cancelled"))), "{label}: {r:?}");
        assert!(matches!(sd::get(app, &a, Kind::Count, &d.id).await, Err(AppError::NotFound)), "{label}: a transfer is no count");

        let page = sd::list(app, &a, Kind::Transfer, &sd::StockDocParams { status: Some("done".into()), ..Default::default() })
            .await
            .expect(label);
        assert_eq!(page.items.iter().filter_map(|t| t.number.as_deref()).collect::<Vec<_>>(), vec!["0001-00000002", "0001-00000001"]);

        // Salespeople read stock but move none.
        let seller = Actor { role: Role::Salesperson, ..admin() };
        let r = sd::create_transfer(app, &seller, &transfer(&wa, &wb, &[(&x, "1")], true)).await;
        assert!(matches!(r, Err(AppError::Forbidden)), "{label}");
        assert!(sd::get(app, &seller, Kind::Transfer, &done.id).await.is_ok(), "{label}");
        let keeper = Actor { role: Role::Warehouse, ..admin() };
        sd::create_transfer(app, &keeper, &transfer(&wa, &wb, &[(&x, "1")], true)).await.expect(label);
        assert!(st::mismatches(app).await.expect(label).is_empty(), "{label}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_count_adjusts_its_differences_and_the_valuation_matches() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let (wa, wb) = warehouses(app).await;
        let x = article(app, "CABLE", "goods", "1500").await;
        let y = article(app, "ENCH", "goods", "200.50").await;
        let z = article(app, "LLAVE", "goods", "100").await;
        stock(app, &x, None, "10").await;
        stock(app, &y, None, "5").await;
        stock(app, &z, None, "2").await;
        stock(app, &z, Some(&wb), "1.5").await;

        // A full sheet of the warehouse, two lines typed.
        let input = CountIn {
            warehouse_id: Some(wa.clone()),
            all_articles: Some(true),
            lines: Some(vec![
                CountLineIn { product_id: Some(x.clone()), counted: Some("8".into()), reason: Some("Rotura".into()) },
                CountLineIn { product_id: Some(y.clone()), counted: Some("5".into()), reason: None },
            ]),
            reason: Some("Inventario anual".into()),
            ..Default::default()
        };
        let c = sd::create_count(app, &a, &input).await.expect(label);
        let sheet: Vec<_> = c
            .lines
            .iter()
            .map(|l| (l.product_code.as_str(), l.expected.as_deref(), l.quantity.as_str(), l.difference.as_deref()))
            .collect();
        assert_eq!(
            sheet,
            vec![("CABLE", Some("10"), "8", Some("-2")), ("ENCH", Some("5"), "5", Some("0")), ("LLAVE", Some("2"), "2", Some("0"))],
            "{label}"
        );
        assert_eq!((c.status.as_str(), c.total_value.as_str()), ("draft", "-3000.00"), "{label}");

        // A delivery-like move meanwhile: the adjustment is against on hand when done.
        stock(app, &x, None, "1").await;
        let done = sd::act(app, &a, Kind::Count, &c.id, DocAction::Done).await.expect(label);
        assert_eq!((done.status.as_str(), done.number.as_deref()), ("done", Some("0001-00000001")), "{label}");
        let x_line = &done.lines[0];
        assert_eq!(
            (x_line.expected.as_deref(), x_line.difference.as_deref(), x_line.unit_cost.as_str(), x_line.value.as_str()),
            (Some("11"), Some("-3"), "1500.00", "-4500.00"),
            "{label}"
        );
        assert_eq!(done.total_value, "-4500.00", "{label}");
        assert_eq!(on_hand(app, &x, &wa).await, "8", "{label}");
        let moves = |p: &str| StockParams { product_id: Some(p.to_string()), warehouse_id: Some(wa.clone()), ..Default::default() };
        let last = st::card(app, &a, &moves(&x)).await.expect(label).items.pop().expect("a move");
        assert_eq!(
            (last.kind.as_str(), last.quantity.as_str(), last.reason.as_deref(), last.document_number.as_deref()),
            ("count", "-3", Some("Rotura"), Some("0001-00000001")),
            "{label}"
        );
        // No difference, no move.
        let y_moves = st::card(app, &a, &moves(&y)).await.expect(label).items;
        assert_eq!(y_moves.iter().filter(|m| m.kind == "count").count(), 0, "{label}");
        assert!(st::mismatches(app).await.expect(label).is_empty(), "{label}");

        // The count's reason for lines without their own; a count is numbered on its own.
        let input = CountIn {
            warehouse_id: Some(wb.clone()),
            lines: Some(vec![CountLineIn { product_id: Some(z.clone()), counted: Some("2.25".into()), reason: None }]),
            reason: Some("Control sorpresa".into()),
            done: Some(true),
            ..Default::default()
        };
        let c2 = sd::create_count(app, &a, &input).await.expect(label);
        assert_eq!((c2.number.as_deref(), c2.lines[0].difference.as_deref()), (Some("0001-00000002"), Some("0.75")), "{label}");
        let zb = StockParams { product_id: Some(z.clone()), warehouse_id: Some(wb.clone()), ..Default::default() };
        let last = st::card(app, &a, &zb).await.expect(label).items.pop().expect("a move");
        assert_eq!((last.quantity.as_str(), last.reason.as_deref()), ("0.75", Some("Control sorpresa")), "{label}");

        // The valuation: on hand × cost per line, totals per warehouse and overall.
        let v = sd::valuation(app, &a, &ValuationParams::default()).await.expect(label);
        let got: Vec<_> = v
            .warehouses
            .iter()
            .map(|w| {
                let lines: Vec<_> =
                    w.lines.iter().map(|l| (l.product_code.clone(), l.on_hand.clone(), l.unit_cost.clone(), l.value.clone())).collect();
                (w.warehouse_id.clone(), lines, w.total.clone())
            })
            .collect();
        let row = |c: &str, q: &str, u: &str, v: &str| (c.to_string(), q.to_string(), u.to_string(), v.to_string());
        let mut expected = vec![
            (
                wa.clone(),
                vec![
                    row("CABLE", "8", "1500.00", "12000.00"),
                    row("ENCH", "5", "200.50", "1002.50"),
                    row("LLAVE", "2", "100.00", "200.00"),
                ],
                "13202.50".to_string(),
            ),
            (wb.clone(), vec![row("LLAVE", "2.25", "100.00", "225.00")], "225.00".to_string()),
        ];
        // Warehouses come by code: the default one's code decides which is first.
        if v.warehouses.first().map(|w| w.warehouse_id.as_str()) == Some(wb.as_str()) {
            expected.reverse();
        }
        assert_eq!(got, expected, "{label}");
        assert_eq!(v.total, "13427.50", "{label}");
        let only_b = sd::valuation(app, &a, &ValuationParams { warehouse_id: Some(wb.clone()) }).await.expect(label);
        assert_eq!((only_b.warehouses.len(), only_b.total.as_str()), (1, "225.00"), "{label}");
        let r = sd::valuation(app, &a, &ValuationParams { warehouse_id: Some("nope".into()) }).await;
        assert_eq!(field_errors(r), vec![("warehouse_id".into(), "warehouse-unknown".into())], "{label}");

        // Bad counts: negative, an archived article; done counts stay done.
        let archived = article(app, "VIEJO", "goods", "1").await;
        m::save_product(app, &a, Some(&archived), &ProductIn { archived: Some(true), ..Default::default() }).await.expect(label);
        let input = CountIn {
            lines: Some(vec![
                CountLineIn { product_id: Some(x.clone()), counted: Some("-1".into()), reason: None },
                CountLineIn { product_id: Some(archived.clone()), counted: Some("1".into()), reason: None },
            ]),
            ..Default::default()
        };
        let r = sd::create_count(app, &a, &input).await;
        let errs = field_errors(r);
        assert!(errs.contains(&("lines.1.product_id".into(), "product-archived".into())), "{label}: {errs:?}");
        assert_eq!(errs.iter().find(|(f, _)| f == "lines.0.counted").map(|(_, k)| k.as_str()), Some("number-negative"), "{label}");
        let r = sd::act(app, &a, Kind::Count, &done.id, DocAction::Cancel).await;
        assert!(matches!(r, Err(AppError::Refused("stock-doc-done"))), "{label}: {r:?}");
        assert_eq!(on_hand(app, &x, &wa).await, "8", "{label}: nothing changed");
        db.cleanup().await;
    }
}
