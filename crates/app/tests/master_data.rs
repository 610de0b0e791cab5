//! Master data scenarios through the use cases, on SQLite and PostgreSQL.

use app::master::{self as m, ListParams, PartyIn, PartyRole, ProductIn};
use app::testkit::databases;
use app::{Actor, AppError};

fn admin() -> Actor {
    Actor::system("test")
}

fn customer(name: &str, tax_id: &str) -> PartyIn {
    PartyIn { name: Some(name.into()), tax_id: Some(tax_id.into()), ..Default::default() }
}

#[tokio::test]
async fn customers_are_created_found_paged_and_audited() {
    for db in databases().await {
        let (app, a) = (&db.app, admin());
        let c = m::create_party(app, &a, PartyRole::Customer, &customer("Ferretería Ñandú", "20-12345678-6")).await.expect(db.label);
        assert_eq!(c.tax_id.as_deref(), Some("20-12345678-6"));
        assert!(c.is_customer && !c.is_supplier);

        // The same tax id again, written differently: refused on the field, nothing stored.
        let dup = m::create_party(app, &a, PartyRole::Customer, &customer("Otra", "20123456786")).await;
        match dup {
            Err(AppError::Invalid(f)) => assert_eq!(f.0.get("tax_id").map(String::as_str), Some("value-duplicate"), "{}", db.label),
            other => panic!("{}: expected a duplicate error, got {other:?}", db.label),
        }
        // A bad check digit never reaches the database.
        assert!(matches!(m::create_party(app, &a, PartyRole::Customer, &customer("X", "20-12345678-0")).await, Err(AppError::Invalid(_))));

        // Search ignores accents and case, and finds by tax id with or without separators.
        for q in ["nandu", "FERRETERIA", "20123456786", "12345678"] {
            let found =
                m::list_parties(app, &a, PartyRole::Customer, &ListParams { q: Some(q.into()), ..Default::default() }).await.expect("list");
            assert_eq!(found.items.len(), 1, "{}: search {q}", db.label);
        }
        // It is not a supplier.
        let sup = m::list_parties(app, &a, PartyRole::Supplier, &ListParams::default()).await.expect("list");
        assert!(sup.items.is_empty());

        // Keyset pages: 7 more customers, pages of 3 cover all 8 exactly once, in name order.
        for i in 0..7 {
            m::create_party(app, &a, PartyRole::Customer, &PartyIn { name: Some(format!("Cliente {i}")), ..Default::default() })
                .await
                .expect("create");
        }
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let p =
                m::list_parties(app, &a, PartyRole::Customer, &ListParams { limit: Some(3), cursor: cursor.clone(), ..Default::default() })
                    .await
                    .expect("page");
            seen.extend(p.items.into_iter().map(|c| c.name));
            cursor = p.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen.len(), 8, "{}", db.label);
        let mut sorted = seen.clone();
        sorted.sort_by_key(|n| domain::text::fold(n));
        assert_eq!(seen, sorted);

        // Archive: gone from the list, still readable, history shows both changes.
        m::archive_party(app, &a, PartyRole::Customer, &c.id).await.expect("archive");
        let left = m::list_parties(app, &a, PartyRole::Customer, &ListParams { q: Some("nandu".into()), ..Default::default() })
            .await
            .expect("list");
        assert!(left.items.is_empty());
        assert!(m::get_party(app, &a, PartyRole::Customer, &c.id).await.expect("get").archived);
        let h = app::audit::history(app, &a, domain::access::Resource::Customers, "party", &c.id).await.expect("history");
        assert_eq!(h.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), vec!["update", "create"]);

        let report = app::audit::verify(app).await.expect("verify");
        assert_eq!(report.first_bad, None, "{}", db.label);
        assert_eq!(report.entries, 9);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn tampering_with_the_audit_trail_is_detected() {
    for db in databases().await {
        let (app, a) = (&db.app, admin());
        for i in 0..3 {
            m::save_product(
                app,
                &a,
                None,
                &ProductIn {
                    code: Some(format!("P{i}")),
                    name: Some(format!("Producto {i}")),
                    sale_price: Some("10.50".into()),
                    ..Default::default()
                },
            )
            .await
            .expect("product");
        }
        assert_eq!(app::audit::verify(app).await.expect("verify").first_bad, None);
        let mut tx = app.db.begin().await.expect("tx");
        sqlx::query("UPDATE audit_log SET after_json = REPLACE(after_json, '10.50', '1.05') WHERE seq = 2")
            .execute(&mut *tx)
            .await
            .expect("tamper");
        tx.commit().await.expect("commit");
        let report = app::audit::verify(app).await.expect("verify");
        assert_eq!(report.first_bad.map(|(seq, _)| seq), Some(2), "{}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn salespeople_cannot_change_credit_terms_but_billing_can() {
    for db in databases().await {
        let app = &db.app;
        let c = m::create_party(app, &admin(), PartyRole::Customer, &customer("Corralón", "30-71234567-1")).await;
        let c = match c {
            Ok(c) => c,
            Err(_) => m::create_party(app, &admin(), PartyRole::Customer, &PartyIn { name: Some("Corralón".into()), ..Default::default() })
                .await
                .expect("create"),
        };
        let mut seller = admin();
        seller.role = domain::access::Role::Salesperson;
        let raise = PartyIn { credit_limit: Some("999999.00".into()), ..Default::default() };
        assert!(matches!(m::update_party(app, &seller, PartyRole::Customer, &c.id, &raise).await, Err(AppError::Forbidden)));
        let rename = PartyIn { phone: Some("+54 11 4555-1234".into()), ..Default::default() };
        assert!(m::update_party(app, &seller, PartyRole::Customer, &c.id, &rename).await.is_ok());
        let mut billing = admin();
        billing.role = domain::access::Role::Billing;
        let updated = m::update_party(app, &billing, PartyRole::Customer, &c.id, &raise).await.expect("billing may");
        assert_eq!(updated.credit_limit.as_deref(), Some("999999.00"));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_demo_company_is_complete_and_valid() {
    for db in databases().await {
        let app = &db.app;
        assert!(app::demo::fill(app, &admin()).await.expect(db.label));
        assert!(!app::demo::fill(app, &admin()).await.expect("second fill is refused"));
        let customers = m::list_parties(app, &admin(), PartyRole::Customer, &ListParams { limit: Some(200), ..Default::default() })
            .await
            .expect("list");
        assert!(customers.items.len() >= 24, "{}", customers.items.len());
        let products = m::list_products(app, &admin(), &ListParams { limit: Some(200), ..Default::default() }).await.expect("list");
        assert!(products.items.len() >= 30);
        assert!(products.items.iter().all(|p| p.tax_rate_id.is_some()));
        assert_eq!(m::company(app, &admin()).await.expect("company").legal_name, "Distribuidora Del Plata S.R.L.");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn search_follows_renames_and_takes_any_characters() {
    for db in databases().await {
        let (app, a) = (&db.app, admin());
        let c = m::create_party(
            app,
            &a,
            PartyRole::Customer,
            &PartyIn { name: Some("Taller \"El 50%\" de Núñez".into()), ..Default::default() },
        )
        .await
        .expect("create");
        let find = |q: &'static str| {
            let app = app.clone();
            let a = a.clone();
            async move {
                m::list_parties(&app, &a, PartyRole::Customer, &ListParams { q: Some(q.into()), ..Default::default() })
                    .await
                    .expect("search")
                    .items
                    .len()
            }
        };
        assert_eq!(find("\"el 50%\"").await, 1, "{}", db.label);
        assert_eq!(find("50%").await, 1);
        assert_eq!(find("_%\\").await, 0);
        assert_eq!(find("nu").await, 1, "two letters still match");
        m::update_party(app, &a, PartyRole::Customer, &c.id, &PartyIn { name: Some("Herrería Quilmes".into()), ..Default::default() })
            .await
            .expect("rename");
        assert_eq!(find("taller").await, 0, "{}: the old name is gone from the index", db.label);
        assert_eq!(find("herreria").await, 1, "{}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_keep_one_unbroken_audit_chain() {
    for db in databases().await {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let app = db.app.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..5 {
                    let input =
                        ProductIn { code: Some(format!("T{t}-{i}")), name: Some(format!("Producto {t}-{i}")), ..Default::default() };
                    m::save_product(&app, &admin(), None, &input).await.expect("save");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let report = app::audit::verify(&db.app).await.expect("verify");
        assert_eq!((report.entries, report.first_bad), (40, None), "{}", db.label);
        db.cleanup().await;
    }
}
