//! Manufacturing through the use cases, on SQLite and PostgreSQL: a three-level table
//! (mesa ← tablero + 4 patas; tablero ← madera with scrap + barniz), its cost roll-up,
//! a cycle refused, planning and shortages, production that consumes and adds stock at
//! the rolled-up cost, and the replenishment list.

use app::manufacturing::{self as mf, BomIn, ComponentIn, ProductionIn, ReorderRuleIn, RollupParams};
use app::master::{self as m, ProductIn};
use app::stock::{self as st, AdjustmentIn, StockParams};
use app::testkit::databases;
use app::{Actor, App, AppError};
use domain::access::Role;
use domain::manufacturing::Action;

fn admin() -> Actor {
    Actor::system("test")
}

struct Mesa {
    mesa: String,
    tablero: String,
    pata: String,
    madera: String,
    barniz: String,
}

async fn article(app: &App, code: &str, kind: &str, cost: &str) -> String {
    let p = ProductIn {
        code: Some(code.into()),
        name: Some(code.to_string()),
        kind: Some(kind.into()),
        unit: Some("u".into()),
        sale_price: Some("1".into()),
        cost: Some(cost.into()),
        ..Default::default()
    };
    m::save_product(app, &admin(), None, &p).await.expect("article").id
}

fn comp(product: &str, q: &str, scrap: &str) -> ComponentIn {
    ComponentIn { product_id: Some(product.into()), quantity: Some(q.into()), scrap_percent: Some(scrap.into()) }
}

async fn bom(app: &App, product: &str, components: Vec<ComponentIn>) -> Result<mf::Bom, AppError> {
    mf::save_bom(app, &admin(), &BomIn { product_id: Some(product.into()), components: Some(components), ..Default::default() }).await
}

async fn mesa(app: &App) -> Mesa {
    let f = Mesa {
        mesa: article(app, "MESA", "manufactured", "0").await,
        tablero: article(app, "TABLERO", "manufactured", "0").await,
        pata: article(app, "PATA", "goods", "1500").await,
        madera: article(app, "MADERA", "goods", "1000").await,
        barniz: article(app, "BARNIZ", "goods", "5000").await,
    };
    bom(app, &f.tablero, vec![comp(&f.madera, "2.5", "10"), comp(&f.barniz, "0.2", "0")]).await.expect("tablero");
    bom(app, &f.mesa, vec![comp(&f.tablero, "1", "0"), comp(&f.pata, "4", "0")]).await.expect("mesa");
    f
}

async fn stock(app: &App, product: &str, q: &str) {
    let input = AdjustmentIn {
        product_id: Some(product.into()),
        quantity: Some(q.into()),
        reason: Some("Stock inicial".into()),
        ..Default::default()
    };
    st::adjust(app, &admin(), &input).await.expect("adjust");
}

async fn on_hand(app: &App, product: &str) -> (String, String) {
    let l = st::levels(app, &admin(), &StockParams { product_id: Some(product.into()), ..Default::default() }).await.expect("levels");
    l.first().map(|l| (l.on_hand.clone(), l.reserved.clone())).unwrap_or(("0".into(), "0".into()))
}

fn field_error(r: Result<impl std::fmt::Debug, AppError>) -> (String, String) {
    match r {
        Err(AppError::Invalid(f)) => f.0.into_iter().next().expect("a field"),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[tokio::test]
async fn a_three_level_bill_rolls_its_cost_up_and_refuses_cycles() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let f = mesa(app).await;
        // tablero = 1000 × 2.5 × 1.1 + 5000 × 0.2 = 3750; mesa = 3750 + 4 × 1500 = 9750.
        let r = mf::cost_rollup(app, &a, &f.mesa, &RollupParams { quantity: Some("2".into()) }).await.expect(label);
        assert_eq!((r.unit_cost.as_str(), r.total_cost.as_str()), ("9750.00", "19500.00"), "{label}");
        let lines: Vec<_> = r.lines.iter().map(|l| (l.level, l.product_code.as_str(), l.quantity.as_str(), l.unit_cost.as_str())).collect();
        assert_eq!(
            lines,
            vec![
                (1, "TABLERO", "2", "3750.00"),
                (2, "MADERA", "5.5", "1000.00"),
                (2, "BARNIZ", "0.4", "5000.00"),
                (1, "PATA", "8", "1500.00")
            ],
            "{label}"
        );

        // madera ← mesa would make mesa contain itself three levels down.
        let madera_before = mf::bom_of_product(app, &a, &f.madera).await.expect(label);
        assert!(madera_before.is_none());
        match bom(app, &f.madera, vec![comp(&f.barniz, "1", "0"), comp(&f.mesa, "1", "0")]).await {
            Err(AppError::Invalid(e)) => {
                assert_eq!(
                    e.0.get("product_id").map(String::as_str),
                    Some("bom-not-manufactured"),
                    "{label}: bought articles have no bill"
                );
                assert_eq!(e.0.get("components.1.product_id").map(String::as_str), Some("bom-cycle"), "{label}");
            }
            other => panic!("{label}: expected field errors, got {other:?}"),
        }
        let r = bom(app, &f.tablero, vec![comp(&f.madera, "1", "0"), comp(&f.mesa, "1", "0")]).await;
        assert_eq!(field_error(r), ("components.1.product_id".into(), "bom-cycle".into()), "{label}");
        let tablero = mf::bom_of_product(app, &a, &f.tablero).await.expect(label).expect("still there");
        assert_eq!(tablero.components.len(), 2, "{label}: nothing saved");
        assert_eq!(tablero.components[0].scrap_percent, "10");

        // Bad lines are named by row.
        let r = bom(app, &f.mesa, vec![comp(&f.pata, "0", "0")]).await;
        assert_eq!(field_error(r), ("components.0.quantity".into(), "quantity-not-positive".into()), "{label}");
        let r = bom(app, &f.mesa, vec![comp(&f.pata, "1", "100")]).await;
        assert_eq!(field_error(r), ("components.0.scrap_percent".into(), "bom-scrap-invalid".into()), "{label}");

        // A salesperson cannot define how things are made.
        let seller = Actor { role: Role::Salesperson, ..admin() };
        assert!(matches!(bom(app, &f.mesa, vec![]).await, Err(AppError::Invalid(_))));
        let r = mf::save_bom(app, &seller, &BomIn { product_id: Some(f.mesa.clone()), ..Default::default() }).await;
        assert!(matches!(r, Err(AppError::Forbidden)), "{label}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn producing_consumes_components_and_adds_the_article_at_its_cost() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let f = mesa(app).await;
        // Two tableros were made earlier at 3750 each (stock at that cost) and patas bought.
        stock(app, &f.pata, "10").await;
        stock(app, &f.tablero, "1").await;
        m::save_product(app, &a, Some(&f.tablero), &ProductIn { cost: Some("3750".into()), ..Default::default() }).await.expect(label);

        let o =
            mf::create_order(app, &a, &ProductionIn { product_id: Some(f.mesa.clone()), quantity: Some("2".into()), ..Default::default() })
                .await
                .expect(label);
        assert_eq!((o.status.as_str(), o.number.as_deref(), o.lines.len()), ("draft", None, 0), "{label}");
        assert_eq!(
            mf::act(app, &a, &o.id, Action::Produce).await.err().map(|e| e.to_string()),
            Some("refused: production-transition-invalid".into())
        );

        let o = mf::act(app, &a, &o.id, Action::Plan).await.expect(label);
        assert_eq!(o.number.as_deref(), Some("0001-00000001"), "{label}");
        let lines: Vec<_> = o.lines.iter().map(|l| (l.product_code.as_str(), l.quantity.as_str())).collect();
        assert_eq!(lines, vec![("TABLERO", "2"), ("PATA", "8")], "{label}");

        // Shortages: one tablero short, and for it madera and barniz (none in stock).
        let s = mf::shortages(app, &a, &o.id).await.expect(label);
        let missing: Vec<_> = s.lines.iter().map(|l| (l.level, l.product_code.as_str(), l.missing.as_str())).collect();
        assert_eq!(missing, vec![(1, "TABLERO", "1"), (2, "MADERA", "5.5"), (2, "BARNIZ", "0.4"), (1, "PATA", "0")], "{label}");
        assert!(!s.complete);

        let o = mf::act(app, &a, &o.id, Action::Reserve).await.expect(label);
        assert_eq!(on_hand(app, &f.pata).await, ("10".into(), "8".into()), "{label}");
        // Producing without enough tableros is refused and changes nothing.
        let r = mf::act(app, &a, &o.id, Action::Produce).await;
        assert_eq!(field_error(r), ("lines.0.quantity".into(), "stock-insufficient".into()), "{label}");
        assert_eq!(on_hand(app, &f.pata).await, ("10".into(), "8".into()), "{label}: nothing consumed");
        assert_eq!(mf::get_order(app, &a, &o.id).await.expect(label).status, "reserved");

        stock(app, &f.tablero, "1").await;
        let done = mf::act(app, &a, &o.id, Action::Produce).await.expect(label);
        assert_eq!((done.status.as_str(), done.unit_cost.as_deref()), ("done", Some("9750.00")), "{label}");
        assert_eq!(on_hand(app, &f.pata).await, ("2".into(), "0".into()), "{label}: consumed and released");
        assert_eq!(on_hand(app, &f.tablero).await, ("0".into(), "0".into()), "{label}");
        assert_eq!(on_hand(app, &f.mesa).await, ("2".into(), "0".into()), "{label}");
        let mesa = m::get_product(app, &a, &f.mesa).await.expect(label);
        assert_eq!(mesa.cost, "9750.00", "{label}: nothing on hand before, the new cost alone");
        let card = st::card(app, &a, &StockParams { product_id: Some(f.mesa.clone()), ..Default::default() }).await.expect(label);
        let moves: Vec<_> = card.items.iter().map(|m| (m.kind.as_str(), m.quantity.as_str(), m.balance.as_str())).collect();
        assert_eq!(moves, vec![("production", "2", "2")], "{label}");
        let card = st::card(app, &a, &StockParams { product_id: Some(f.pata.clone()), ..Default::default() }).await.expect(label);
        assert_eq!(card.items.last().map(|m| (m.kind.as_str(), m.quantity.as_str())), Some(("consumption", "-8")), "{label}");
        assert!(st::mismatches(app).await.expect(label).is_empty(), "{label}: on hand is the sum of the moves");

        // A second run at a dearer pata averages the article's cost over what is on hand.
        m::save_product(app, &a, Some(&f.pata), &ProductIn { cost: Some("2000".into()), ..Default::default() }).await.expect(label);
        stock(app, &f.tablero, "1").await;
        stock(app, &f.pata, "2").await;
        let o2 =
            mf::create_order(app, &a, &ProductionIn { product_id: Some(f.mesa.clone()), quantity: Some("1".into()), ..Default::default() })
                .await
                .expect(label);
        for action in [Action::Plan, Action::Reserve, Action::Produce] {
            mf::act(app, &a, &o2.id, action).await.expect(label);
        }
        // 3750 + 4 × 2000 = 11750 for one; (2 × 9750 + 1 × 11750) / 3 = 10416.67.
        assert_eq!(mf::get_order(app, &a, &o2.id).await.expect(label).unit_cost.as_deref(), Some("11750.00"));
        assert_eq!(m::get_product(app, &a, &f.mesa).await.expect(label).cost, "10416.67", "{label}");

        // Cancelling a reserved order releases what it held; a done order cannot be cancelled.
        let o3 =
            mf::create_order(app, &a, &ProductionIn { product_id: Some(f.mesa.clone()), quantity: Some("1".into()), ..Default::default() })
                .await
                .expect(label);
        mf::act(app, &a, &o3.id, Action::Plan).await.expect(label);
        mf::act(app, &a, &o3.id, Action::Reserve).await.expect(label);
        assert_eq!(on_hand(app, &f.pata).await.1, "4", "{label}");
        let c = mf::act(app, &a, &o3.id, Action::Cancel).await.expect(label);
        assert_eq!((c.status.as_str(), c.cancelled_by.as_deref()), ("cancelled", Some(a.username.as_str())));
        assert_eq!(on_hand(app, &f.pata).await.1, "0", "{label}");
        assert!(matches!(mf::act(app, &a, &o2.id, Action::Cancel).await, Err(AppError::Refused("production-done"))));

        // An article without a bill cannot be produced.
        let r =
            mf::create_order(app, &a, &ProductionIn { product_id: Some(f.pata.clone()), quantity: Some("1".into()), ..Default::default() })
                .await;
        assert_eq!(field_error(r), ("product_id".into(), "production-no-bom".into()), "{label}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn replenishment_suggests_buying_and_making_counting_open_orders() {
    for db in databases().await {
        let (app, a, label) = (&db.app, admin(), db.label);
        let f = mesa(app).await;
        stock(app, &f.pata, "3").await;
        stock(app, &f.madera, "50").await;
        let rule = |p: &str, point: &str, q: &str| ReorderRuleIn {
            product_id: Some(p.into()),
            reorder_point: Some(point.into()),
            reorder_quantity: Some(q.into()),
            ..Default::default()
        };
        mf::set_rule(app, &a, &rule(&f.pata, "10", "20")).await.expect(label);
        mf::set_rule(app, &a, &rule(&f.madera, "10", "20")).await.expect(label);
        mf::set_rule(app, &a, &rule(&f.mesa, "5", "2")).await.expect(label);
        mf::set_rule(app, &a, &rule(&f.barniz, "30", "5")).await.expect(label);

        // A purchase order still open for 20 barniz, of which 4 were received.
        let wh = st::list_warehouses(app, &a).await.expect(label).into_iter().find(|w| w.is_default).expect("default").id;
        let supplier =
            m::create_party(app, &a, m::PartyRole::Supplier, &m::PartyIn { name: Some("Maderera del Sur".into()), ..Default::default() })
                .await
                .expect(label)
                .id;
        let mut conn = app.db.begin().await.expect(label);
        let (po, line) = (app::new_id(), app::new_id());
        for (sql, binds) in [
            (
                "INSERT INTO documents (id, kind, status, point_of_sale, party_id, party_name, warehouse_id, issue_date, created_by, created_at, updated_at) \
                 VALUES ($1, 'purchase_order', 'confirmed', 1, $2, 'Maderera del Sur', $3, '2026-01-01', 'test', '2026-01-01', '2026-01-01')",
                vec![po.clone(), supplier.clone(), wh.clone()],
            ),
            (
                "INSERT INTO document_lines (id, document_id, position, product_id, description, quantity, unit_price, tax_name, tax_rate, net, delivered) \
                 VALUES ($1, $2, 0, $3, 'barniz', 20000, 100, 'IVA', 2100, 2000, 4000)",
                vec![line.clone(), po.clone(), f.barniz.clone()],
            ),
        ] {
            let mut q = sqlx::query(sql);
            for b in binds {
                q = q.bind(b);
            }
            q.execute(&mut *conn).await.expect(label);
        }
        conn.commit().await.expect(label);
        // An open production order for one mesa.
        mf::create_order(app, &a, &ProductionIn { product_id: Some(f.mesa.clone()), quantity: Some("1".into()), ..Default::default() })
            .await
            .expect(label);

        let s = mf::replenishment(app, &a).await.expect(label);
        let got: Vec<_> =
            s.items.iter().map(|s| (s.product_code.as_str(), s.action.as_str(), s.quantity.as_str(), s.projected.as_str())).collect();
        // barniz: 0 + 16 on order < 30 → 14; mesa: 1 coming < 5 → make 4; pata: 3 < 10 → 20; madera above.
        assert_eq!(got, vec![("BARNIZ", "buy", "14", "16"), ("MESA", "make", "4", "1"), ("PATA", "buy", "20", "3")], "{label}");

        let bad = mf::set_rule(app, &a, &rule(&f.pata, "-1", "0")).await;
        assert!(matches!(bad, Err(AppError::Invalid(ref e)) if e.0.contains_key("reorder_point") && e.0.contains_key("reorder_quantity")));
        let seller = Actor { role: Role::Salesperson, ..admin() };
        assert!(matches!(mf::set_rule(app, &seller, &rule(&f.pata, "1", "1")).await, Err(AppError::Forbidden)));
        db.cleanup().await;
    }
}
