//! Import and export of master data, on SQLite and PostgreSQL: what a person checks after
//! importing a spreadsheet (how many records the lists show, their values, the rows the
//! report names) and after exporting one (that it imports back unchanged).

use app::master::{self as m, ContactIn, ListParams, Party, PartyIn, PartyRole, Product, TaxRateIn};
use app::testkit::databases;
use app::transfer::{self as t, ExportFormat, ImportKind, ImportOptions, ImportReport, RowError, Table, TransferError};
use app::{Actor, App, AppError};
use domain::taxid::{TaxId, TaxScheme};

fn admin() -> Actor {
    Actor::system("test")
}

/// A valid CUIT for a prefix and an 8-digit number (as in `app::demo`).
fn cuit(prefix: u32, number: u32) -> String {
    for n in number.. {
        for check in 0..10 {
            let s = format!("{prefix}-{n:08}-{check}");
            if TaxId::parse(TaxScheme::ArCuit, &s).is_ok() {
                return s;
            }
        }
    }
    unreachable!()
}

/// The same CUIT with a wrong check digit.
fn bad_cuit(prefix: u32, number: u32) -> String {
    let good = cuit(prefix, number);
    let last = good.chars().last().and_then(|c| c.to_digit(10)).unwrap_or(0);
    format!("{}{}", &good[..good.len() - 1], (last + 1) % 10)
}

const APPLY: ImportOptions = ImportOptions { dry_run: false, skip_bad_rows: false };
const SKIP: ImportOptions = ImportOptions { dry_run: false, skip_bad_rows: true };
const DRY: ImportOptions = ImportOptions { dry_run: true, skip_bad_rows: false };

async fn import(app: &App, kind: ImportKind, bytes: &[u8], opts: ImportOptions) -> ImportReport {
    let table = t::read_table(bytes).expect("readable file");
    t::import(app, &admin(), kind, &table, &opts, &|_, _| {}).await.expect("import runs")
}

async fn parties(app: &App, role: PartyRole) -> Vec<Party> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let p = m::list_parties(app, &admin(), role, &ListParams { limit: Some(200), cursor, ..Default::default() }).await.expect("list");
        out.extend(p.items);
        cursor = p.next_cursor;
        if cursor.is_none() {
            return out;
        }
    }
}

async fn products(app: &App) -> Vec<Product> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let p = m::list_products(app, &admin(), &ListParams { limit: Some(200), cursor, ..Default::default() }).await.expect("list");
        out.extend(p.items);
        cursor = p.next_cursor;
        if cursor.is_none() {
            return out;
        }
    }
}

fn err(row: usize, field: &str, key: &str) -> RowError {
    RowError { row, field: Some(field.into()), key: key.into() }
}

/// A customers file as Excel in Spanish saves it: BOM, `;`, CRLF, decimal commas.
fn customers_csv(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut s =
        String::from("\u{feff}Código;Razón Social;CUIT;Correo;Teléfono;Ciudad;Provincia;País;Límite de crédito;Días de pago;Etiquetas\r\n");
    for [code, name, tax_id, email, phone, city] in rows {
        let name = if name.contains(';') { format!("\"{name}\"") } else { name.to_string() };
        s.push_str(&format!("{code};{name};{tax_id};{email};{phone};{city};Córdoba;AR;150000,50;30;Mayorista|VIP\r\n"));
    }
    s.into_bytes()
}

fn five_customers() -> Vec<[String; 6]> {
    (0..5)
        .map(|i| {
            [
                format!("C{:03}", i + 1),
                if i == 0 { "Pérez; Hnos. S.A.".to_string() } else { format!("Cliente Número {i}") },
                cuit(30, 70_000_000 + i * 1_013),
                format!("compras{i}@cliente.com.ar"),
                format!("+54 351 422-{:04}", 1000 + i),
                "Córdoba".to_string(),
            ]
        })
        .collect()
}

fn as_refs(rows: &[[String; 6]]) -> Vec<[&str; 6]> {
    rows.iter().map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str(), r[4].as_str(), r[5].as_str()]).collect()
}

#[tokio::test]
async fn a_spanish_csv_imports_customers_and_a_second_import_updates_them() {
    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        let mut rows = five_customers();
        let file = customers_csv(&as_refs(&rows));
        let calls = std::sync::Mutex::new(Vec::new());
        let table = t::read_table(&file).expect("readable");
        assert_eq!(table.headers[1], "Razón Social");
        let report =
            t::import(app, &admin(), ImportKind::Customers, &table, &APPLY, &|done, total| calls.lock().expect("lock").push((done, total)))
                .await
                .expect(l);
        assert_eq!((report.rows, report.created, report.updated, report.applied), (5, 5, 0, true), "{l}: {report:?}");
        assert!(report.errors.is_empty());
        assert_eq!(calls.lock().expect("lock").last(), Some(&(5, 5)));

        let list = parties(app, PartyRole::Customer).await;
        assert_eq!(list.len(), 5, "{l}");
        let perez = list.iter().find(|p| p.name == "Pérez; Hnos. S.A.").expect("the quoted name with a semicolon");
        assert_eq!(perez.code.as_deref(), Some("C001"));
        assert_eq!(perez.tax_id.as_deref(), Some(rows[0][2].as_str()));
        assert_eq!(perez.credit_limit.as_deref(), Some("150000.50"));
        assert_eq!(perez.payment_terms_days, 30);
        assert_eq!(perez.tags, vec!["mayorista", "vip"]);
        assert_eq!(
            (perez.city.as_deref(), perez.region.as_deref(), perez.country.as_deref()),
            (Some("Córdoba"), Some("Córdoba"), Some("AR"))
        );
        assert_eq!(perez.email.as_deref(), Some("compras0@cliente.com.ar"));

        // The same file again: nothing new, nothing changed.
        let again = import(app, ImportKind::Customers, &file, APPLY).await;
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 5), "{l}: {again:?}");
        assert_eq!(parties(app, PartyRole::Customer).await.len(), 5);

        // One phone changed, and a CUIT written without hyphens still finds its customer.
        rows[2][4] = "+54 351 499-9999".into();
        rows[3][2] = rows[3][2].replace('-', "");
        let changed = import(app, ImportKind::Customers, &customers_csv(&as_refs(&rows)), APPLY).await;
        assert_eq!((changed.created, changed.updated, changed.unchanged), (0, 1, 4), "{l}: {changed:?}");
        let list = parties(app, PartyRole::Customer).await;
        assert_eq!(list.len(), 5);
        assert_eq!(
            list.iter().find(|p| p.code.as_deref() == Some("C003")).and_then(|p| p.phone.clone()).as_deref(),
            Some("+54 351 499-9999")
        );

        // Every change is in the audit trail, and the trail is intact.
        let v = app::audit::verify(app).await.expect("verify");
        assert_eq!((v.entries, v.first_bad), (6, None), "{l}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_bad_row_cancels_the_import_unless_bad_rows_are_skipped() {
    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        let mut rows = five_customers();
        rows[2][2] = bad_cuit(30, 70_000_000 + 2 * 1_013); // row 3
        rows[4][3] = "no-es-un-correo".into(); // row 5
        let file = customers_csv(&as_refs(&rows));

        let report = import(app, ImportKind::Customers, &file, APPLY).await;
        assert!(!report.applied, "{l}");
        assert_eq!(report.errors, vec![err(3, "tax_id", "taxid-bad-check-digit"), err(5, "email", "email-invalid")], "{l}");
        assert!(parties(app, PartyRole::Customer).await.is_empty(), "{l}: nothing stored");

        let report = import(app, ImportKind::Customers, &file, SKIP).await;
        assert!(report.applied);
        assert_eq!((report.created, report.skipped, report.errors.len()), (3, 2, 2), "{l}: {report:?}");
        let names: Vec<String> = parties(app, PartyRole::Customer).await.into_iter().map(|p| p.name).collect();
        assert_eq!(names.len(), 3);
        assert!(!names.contains(&"Cliente Número 2".to_string()) && !names.contains(&"Cliente Número 4".to_string()), "{names:?}");

        // Articles: a negative price in row 2, and row 4 repeats the code of row 1.
        let file = "Código,Nombre,Precio,Costo\r\nA-1,Martillo,100,60\r\nA-2,Pinza,-10,5\r\nA-3,Tenaza,\"1234,5\",700\r\na-1,Martillo otra vez,100,60\r\n";
        let report = import(app, ImportKind::Products, file.as_bytes(), APPLY).await;
        assert!(!report.applied);
        assert_eq!(report.errors, vec![err(2, "sale_price", "number-negative"), err(4, "code", "import-duplicate-row")], "{l}");
        assert!(products(app).await.is_empty(), "{l}");
        let report = import(app, ImportKind::Products, file.as_bytes(), SKIP).await;
        assert_eq!((report.created, report.skipped), (2, 2));
        let list = products(app).await;
        assert_eq!(
            list.iter().map(|p| (p.code.as_str(), p.sale_price.as_str())).collect::<Vec<_>>(),
            vec![("A-1", "100.00"), ("A-3", "1234.50")]
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_stores_nothing() {
    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        let rows = five_customers();
        let report = import(app, ImportKind::Customers, &customers_csv(&as_refs(&rows)), DRY).await;
        assert_eq!((report.created, report.applied), (5, false), "{l}");
        assert!(report.errors.is_empty());
        assert!(parties(app, PartyRole::Customer).await.is_empty(), "{l}");
        assert_eq!(app::audit::verify(app).await.expect("verify").entries, 0);

        // The same CUIT twice in one file (written differently) is found by a dry run too.
        let mut dup = rows.clone();
        dup[3][2] = dup[0][2].replace('-', "");
        dup[3][0] = "C900".into();
        let report = import(app, ImportKind::Customers, &customers_csv(&as_refs(&dup)), DRY).await;
        assert_eq!(report.errors, vec![err(4, "tax_id", "import-duplicate-row")], "{l}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_xlsx_file_imports_articles_with_numbers_and_tax_rates() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        let rate = |name: &str, r: &str| TaxRateIn { name: Some(name.into()), rate: Some(r.into()), ..Default::default() };
        let iva21 = m::save_tax_rate(app, &admin(), None, &rate("IVA 21 %", "21")).await.expect("rate");
        let iva105 = m::save_tax_rate(app, &admin(), None, &rate("IVA 10,5 %", "10.5")).await.expect("rate");

        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let bold = Format::new().set_bold();
        for (c, h) in
            ["Código", "Nombre", "Precio de venta", "Costo", "IVA", "Código de barras", "Tipo", "Unidad", "Categoría"].iter().enumerate()
        {
            ws.write_string_with_format(0, c as u16, *h, &bold).expect("header");
        }
        ws.write_string(1, 0, "MART-500").expect("cell");
        ws.write_string(1, 1, "Martillo carpintero 500 g").expect("cell");
        ws.write_number(1, 2, 8450.5).expect("cell");
        ws.write_number(1, 3, 5070).expect("cell");
        ws.write_string(1, 4, "IVA 21 %").expect("cell");
        ws.write_number(1, 5, 7_790_001_000_019.0).expect("cell");
        ws.write_string(1, 6, "Bien").expect("cell");
        ws.write_string(1, 7, "u").expect("cell");
        ws.write_string(1, 8, "Herramientas").expect("cell");
        ws.write_string(2, 0, "SEMILLA-C").expect("cell");
        ws.write_string(2, 1, "Semillas de césped (kg)").expect("cell");
        ws.write_number(2, 2, 8700).expect("cell");
        ws.write_number(2, 3, 5220).expect("cell");
        ws.write_number(2, 4, 10.5).expect("cell");
        ws.write_string(2, 7, "kg").expect("cell");
        ws.write_string(3, 0, "FLETE").expect("cell");
        ws.write_string(3, 1, "Flete dentro de CABA").expect("cell");
        ws.write_number(3, 2, 25000).expect("cell");
        ws.write_string(3, 4, "21").expect("cell");
        ws.write_string(3, 6, "servicio").expect("cell");
        let bytes = wb.save_to_buffer().expect("xlsx");

        let report = import(app, ImportKind::Products, &bytes, APPLY).await;
        assert_eq!((report.created, report.applied), (3, true), "{l}: {report:?}");
        let list = products(app).await;
        let get = |code: &str| list.iter().find(|p| p.code == code).cloned().expect(code);
        let mart = get("MART-500");
        assert_eq!((mart.sale_price.as_str(), mart.cost.as_str()), ("8450.50", "5070.00"), "{l}");
        assert_eq!(mart.barcode.as_deref(), Some("7790001000019"));
        assert_eq!(mart.tax_rate_id.as_deref(), Some(iva21.id.as_str()));
        assert_eq!((mart.kind.as_str(), mart.category.as_deref()), ("goods", Some("Herramientas")));
        assert_eq!(get("SEMILLA-C").tax_rate_id.as_deref(), Some(iva105.id.as_str()));
        assert_eq!(get("SEMILLA-C").unit, "kg");
        let flete = get("FLETE");
        assert_eq!((flete.kind.as_str(), flete.tax_rate_id.as_deref(), flete.unit.as_str()), ("service", Some(iva21.id.as_str()), "u"));

        // An unknown rate is the row's error, on the column's field.
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in ["codigo", "nombre", "tasa"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).expect("header");
        }
        for (r, (code, rate)) in [("X1", "21"), ("X2", "19")].iter().enumerate() {
            ws.write_string(r as u32 + 1, 0, *code).expect("cell");
            ws.write_string(r as u32 + 1, 1, "Cosa").expect("cell");
            ws.write_string(r as u32 + 1, 2, *rate).expect("cell");
        }
        let bytes = wb.save_to_buffer().expect("xlsx");
        let report = import(app, ImportKind::Products, &bytes, APPLY).await;
        assert_eq!(report.errors, vec![err(2, "tax_rate", "tax-rate-unknown")], "{l}");
        // Skipped, the bad row leaves nothing behind (not even an article without its rate).
        let report = import(app, ImportKind::Products, &bytes, SKIP).await;
        assert_eq!((report.created, report.skipped), (1, 1), "{l}");
        let codes: Vec<String> = products(app).await.into_iter().map(|p| p.code).collect();
        assert!(codes.contains(&"X1".to_string()) && !codes.contains(&"X2".to_string()), "{l}: {codes:?}");

        // Dates read as ISO text.
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "Nombre").expect("header");
        ws.write_string(0, 1, "Notas").expect("header");
        ws.write_string(1, 0, "Ana").expect("cell");
        let date = ExcelDateTime::from_ymd(2024, 3, 15).expect("date");
        ws.write_datetime_with_format(1, 1, &date, &Format::new().set_num_format("dd/mm/yyyy")).expect("cell");
        let table = t::read_table(&wb.save_to_buffer().expect("xlsx")).expect("table");
        assert_eq!(table.rows, vec![vec!["Ana".to_string(), "2024-03-15".to_string()]]);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn files_that_are_not_tables_are_refused_clearly() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    assert_eq!(t::read_table(png), Err(TransferError::NotASpreadsheet));
    assert_eq!(t::read_table(png).map_err(|e| e.key()), Err("import-not-a-spreadsheet"));
    assert_eq!(t::read_table(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), Err(TransferError::NotASpreadsheet));
    assert_eq!(t::read_table(b"PK\x03\x04\x14\0\0\0garbage that is not a workbook"), Err(TransferError::NotASpreadsheet));
    assert_eq!(t::read_table(b"<html><table><tr><td>x</td></tr></table></html>"), Err(TransferError::NotASpreadsheet));
    assert_eq!(t::read_table(b""), Err(TransferError::Empty));
    assert_eq!(t::read_table(b"\xEF\xBB\xBF\r\n"), Err(TransferError::Empty));
    // Latin-1, as an old "CSV (delimitado por comas)" is saved: the row is named.
    let latin1 = t::read_table(b"nombre;ciudad\nAna;Rosario\nJos\xe9;C\xf3rdoba\n").expect_err("latin-1");
    assert_eq!((latin1.key(), latin1.row()), ("import-not-utf8", Some(2)));
    let ragged = t::read_table(b"nombre,cuit,ciudad\nAna,,Rosario\nJose,1\n").expect_err("ragged");
    assert_eq!(ragged, TransferError::Ragged { row: 2, expected: 3, found: 2 });
    assert_eq!(
        t::read_table("Nombre;Color;CUIT;Peso\nAna;rojo;;3\n".as_bytes()),
        Err(TransferError::UnknownColumns(vec!["Color".into(), "Peso".into()]))
    );
    assert_eq!(t::read_table(b"Nombre;Razon social\nA;B\n"), Err(TransferError::DuplicateColumn("Razon social".into())));

    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        // A column of another kind of record, and a missing key column.
        let table = t::read_table("Nombre;Precio\nAna;3\n".as_bytes()).expect("table");
        assert_eq!(t::check_columns(ImportKind::Customers, &table), Err(TransferError::UnknownColumns(vec!["Precio".into()])));
        match t::import(app, &admin(), ImportKind::Customers, &table, &APPLY, &|_, _| {}).await {
            Err(AppError::Invalid(f)) => assert_eq!(f.0.get("Precio").map(String::as_str), Some("import-unknown-column"), "{l}"),
            other => panic!("{l}: {other:?}"),
        }
        let table = t::read_table(b"Nombre;Precio\nMartillo;3\n").expect("table");
        match t::import(app, &admin(), ImportKind::Products, &table, &APPLY, &|_, _| {}).await {
            Err(AppError::Invalid(f)) => assert_eq!(f.0.get("code").map(String::as_str), Some("import-missing-column"), "{l}"),
            other => panic!("{l}: {other:?}"),
        }

        // A salesperson may add customers but not set credit limits: the whole import stops.
        let mut seller = admin();
        seller.role = domain::access::Role::Salesperson;
        let file = customers_csv(&as_refs(&five_customers()));
        let table = t::read_table(&file).expect("table");
        let r = t::import(app, &seller, ImportKind::Customers, &table, &SKIP, &|_, _| {}).await;
        assert!(matches!(r, Err(AppError::Forbidden)), "{l}: {r:?}");
        assert!(parties(app, PartyRole::Customer).await.is_empty());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn exports_import_back_unchanged_in_csv_and_xlsx() {
    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        assert!(app::demo::fill(app, &admin()).await.expect("demo"));
        // A customer with text that needs quoting and protection in CSV.
        m::create_party(
            app,
            &admin(),
            PartyRole::Customer,
            &PartyIn {
                name: Some("Comas, \"Comillas\"; y Punto".into()),
                notes: Some("=HIPERVINCULO(\"x\")\nsegunda línea".into()),
                phone: Some("+54 11 4555-0000".into()),
                tags: Some(vec!["nuevo".into(), "web".into()]),
                ..Default::default()
            },
        )
        .await
        .expect("customer");
        let customers = parties(app, PartyRole::Customer).await;
        let suppliers = parties(app, PartyRole::Supplier).await;
        let articles = products(app).await;

        for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
            let file = t::export(app, &admin(), ImportKind::Customers, format).await.expect("export");
            if format == ExportFormat::Csv {
                let text = std::str::from_utf8(&file).expect("utf-8");
                assert!(text.starts_with("\u{feff}Código,Nombre,Nombre de fantasía,CUIT,"), "{}", &text[..80]);
                assert!(text.contains("\r\n"));
                assert!(text.contains("'=HIPERVINCULO"), "formula protected");
            } else {
                assert!(file.starts_with(b"PK\x03\x04"));
            }
            let table = t::read_table(&file).expect("export reads back");
            assert_eq!(table.rows.len(), customers.len());
            let report = t::import(app, &admin(), ImportKind::Customers, &table, &APPLY, &|_, _| {}).await.expect("import");
            assert_eq!((report.created, report.updated, report.unchanged), (0, 0, customers.len()), "{l} {format:?}: {:?}", report.errors);

            for (kind, n) in [(ImportKind::Suppliers, suppliers.len()), (ImportKind::Products, articles.len())] {
                let file = t::export(app, &admin(), kind, format).await.expect("export");
                let report = import(app, kind, &file, APPLY).await;
                assert_eq!((report.created, report.updated, report.unchanged), (0, 0, n), "{l} {kind:?} {format:?}: {:?}", report.errors);
            }

            // Into an empty database (with the same tax rates): the same records come out.
            let fresh = app::testkit::sqlite().await;
            for r in m::list_tax_rates(app, &admin(), false).await.expect("rates") {
                let input = TaxRateIn { name: Some(r.name), rate: Some(r.rate), exempt: Some(r.exempt), ..Default::default() };
                m::save_tax_rate(&fresh.app, &admin(), None, &input).await.expect("rate");
            }
            for kind in [ImportKind::Customers, ImportKind::Suppliers, ImportKind::Products] {
                let file = t::export(app, &admin(), kind, format).await.expect("export");
                let report = import(&fresh.app, kind, &file, APPLY).await;
                assert!(report.errors.is_empty() && report.applied, "{l} {kind:?}: {report:?}");
            }
            let key = |p: &Party| {
                (
                    p.code.clone(),
                    p.name.clone(),
                    p.tax_id.clone(),
                    (p.email.clone(), p.phone.clone(), p.mobile.clone(), p.website.clone()),
                    (p.street.clone(), p.city.clone(), p.region.clone(), p.postal_code.clone(), p.country.clone()),
                    (p.payment_terms_days, p.credit_limit.clone(), p.tags.clone(), p.notes.clone(), p.trade_name.clone()),
                )
            };
            let a: Vec<_> = customers.iter().map(key).collect();
            let b: Vec<_> = parties(&fresh.app, PartyRole::Customer).await.iter().map(key).collect();
            assert_eq!(a, b, "{l} {format:?}");
            let a: Vec<_> = suppliers.iter().map(key).collect();
            let b: Vec<_> = parties(&fresh.app, PartyRole::Supplier).await.iter().map(key).collect();
            assert_eq!(a, b, "{l} {format:?}");
            let rate_name =
                |rates: &[m::TaxRate], id: &Option<String>| rates.iter().find(|r| Some(&r.id) == id.as_ref()).map(|r| r.name.clone());
            let (ra, rb) = (
                m::list_tax_rates(app, &admin(), true).await.expect("rates"),
                m::list_tax_rates(&fresh.app, &admin(), true).await.expect("rates"),
            );
            let pkey = |rates: &[m::TaxRate], p: &Product| {
                (
                    p.code.clone(),
                    p.name.clone(),
                    p.kind.clone(),
                    p.unit.clone(),
                    p.sale_price.clone(),
                    p.cost.clone(),
                    p.category.clone(),
                    p.barcode.clone(),
                    rate_name(rates, &p.tax_rate_id),
                )
            };
            let a: Vec<_> = articles.iter().map(|p| pkey(&ra, p)).collect();
            let b: Vec<_> = products(&fresh.app).await.iter().map(|p| pkey(&rb, p)).collect();
            assert_eq!(a, b, "{l} {format:?}");
            fresh.cleanup().await;
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn contacts_round_trip_through_vcard() {
    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        let party = |name: &str| PartyIn { name: Some(name.into()), ..Default::default() };
        let a = m::create_party(app, &admin(), PartyRole::Customer, &party("Ferretería Ñandú; Sucursal Centro")).await.expect("party");
        let b = m::create_party(app, &admin(), PartyRole::Supplier, &party("Otra Empresa")).await.expect("party");
        let long_note = "Atiende de 8 a 12.\nNo llamar los lunes; preferir correo, o WhatsApp \\ Telegram. ".repeat(3);
        let people = [
            ContactIn {
                party_id: Some(a.id.clone()),
                name: Some("Pérez, José María".into()),
                job_title: Some("Jefe de compras; depósito".into()),
                email: Some("jm.perez@nandu.com.ar".into()),
                phone: Some("+54 11 4555-1234".into()),
                mobile: Some("+54 9 11 5555-6666".into()),
                notes: Some(long_note.trim().to_string()),
                ..Default::default()
            },
            ContactIn {
                party_id: Some(a.id.clone()),
                name: Some("Ana Núñez".into()),
                email: Some("ana@nandu.com.ar".into()),
                ..Default::default()
            },
            ContactIn {
                party_id: Some(a.id.clone()),
                name: Some("Íñigo Güemes".into()),
                mobile: Some("+54 9 387 421-7700".into()),
                ..Default::default()
            },
        ];
        for c in &people {
            m::create_contact(app, &admin(), c).await.expect("contact");
        }
        let text = t::export_vcards(app, &admin()).await.expect("export");
        assert_eq!(text.matches("BEGIN:VCARD\r\n").count(), 3, "{l}");
        assert!(text.contains("VERSION:4.0\r\n"));
        assert!(text.contains("FN:Pérez\\, José María\r\n"), "{text}");
        assert!(text.contains("ORG:Ferretería Ñandú\\; Sucursal Centro\r\n"));
        assert!(text.contains("TEL;TYPE=cell:+54 9 11 5555-6666\r\n"));
        assert!(text.split("\r\n").all(|line| line.len() <= 75), "folded at 75 octets");
        assert!(text.contains("\r\n "), "a long note is folded");
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only, newlines escaped");

        let report = t::import_vcards(app, &admin(), &b.id, &text, &APPLY).await.expect("import");
        assert_eq!((report.rows, report.created, report.applied), (3, 3, true), "{l}: {report:?}");
        let contacts = |party_id: String| async move {
            let mut c = m::list_contacts(app, &admin(), &ListParams { limit: Some(200), ..Default::default() }, Some(&party_id))
                .await
                .expect("list")
                .items;
            c.sort_by(|x, y| x.name.cmp(&y.name));
            c.into_iter().map(|c| (c.name, c.job_title, c.email, c.phone, c.mobile, c.notes)).collect::<Vec<_>>()
        };
        let (from_a, from_b) = (contacts(a.id.clone()).await, contacts(b.id.clone()).await);
        assert_eq!(from_a, from_b, "{l}");
        assert!(from_b.iter().any(|c| c.0 == "Pérez, José María" && c.4.as_deref() == Some("+54 9 11 5555-6666")));

        // Again: nothing new.
        let again = t::import_vcards(app, &admin(), &b.id, &text, &APPLY).await.expect("import");
        assert_eq!((again.created, again.unchanged), (0, 3), "{l}");

        // A vCard 3.0 from a phone: folded, escaped, typed; a card without a name is named.
        let v3 = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Sosa;Diego;;;\r\nFN:Diego Sosa\r\nORG:Otra Empresa\r\nTITLE:Due\r\n ño\\, socio\r\nEMAIL;TYPE=INTERNET,WORK:diego@otra.com\r\nTEL;TYPE=CELL:+54 9 11 4444-3333\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:anonimo@otra.com\r\nEND:VCARD\r\n";
        let report = t::import_vcards(app, &admin(), &b.id, v3, &APPLY).await.expect("import");
        assert!(!report.applied);
        assert_eq!(report.errors, vec![err(2, "name", "field-required")], "{l}");
        let report = t::import_vcards(app, &admin(), &b.id, v3, &SKIP).await.expect("import");
        assert_eq!((report.created, report.skipped), (1, 1));
        let diego = contacts(b.id.clone()).await.into_iter().find(|c| c.0 == "Diego Sosa").expect("Diego");
        assert_eq!(
            (diego.1.as_deref(), diego.2.as_deref(), diego.4.as_deref()),
            (Some("Dueño, socio"), Some("diego@otra.com"), Some("+54 9 11 4444-3333"))
        );

        assert!(matches!(t::import_vcards(app, &admin(), &b.id, "hola", &APPLY).await, Err(AppError::Invalid(_))));
        assert!(matches!(t::import_vcards(app, &admin(), &app::new_id(), &text, &APPLY).await, Err(AppError::NotFound)));
        db.cleanup().await;
    }
}

/// A file of a few thousand rows goes in chunks (of 1129 customers on SQLite, 2000 on
/// PostgreSQL): every row is stored once, with its audit entry, and the search finds rows
/// of every chunk.
#[tokio::test]
async fn a_file_of_thousands_of_rows_imports_in_chunks() {
    const N: usize = 2_600; // three chunks or two, the last one short
    let tax: Vec<String> = (0..N as u32).map(|i| cuit(30, 60_000_000 + i * 7)).collect();
    let mut customers = String::from("Código;Razón Social;CUIT;Correo;Ciudad;Límite de crédito;Días de pago;Etiquetas\n");
    for (i, t) in tax.iter().enumerate() {
        customers.push_str(&format!("K{i:05};Comercio Quebracho {i};{t};k{i}@example.com;Rosario;{},50;30;mayorista|sur\n", 1000 + i));
    }
    let mut articles = String::from("Código;Nombre;Precio;Costo;Categoría\n");
    for i in 0..N {
        articles.push_str(&format!("p{i:05};Tornillo zincado {i};{},25;{};Bulonería\n", 10 + i, 5 + i));
    }
    let customers = t::read_table(customers.as_bytes()).expect("table");
    let articles = t::read_table(articles.as_bytes()).expect("table");
    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        let calls = std::sync::Mutex::new(Vec::new());
        let report = t::import(app, &admin(), ImportKind::Customers, &customers, &APPLY, &|done, total| {
            calls.lock().expect("lock").push((done, total))
        })
        .await
        .expect(l);
        assert_eq!(report, ImportReport { rows: N, created: N, applied: true, ..Default::default() }, "{l}");
        assert_eq!(*calls.lock().expect("lock"), vec![(500, N), (1000, N), (1500, N), (2000, N), (2500, N), (N, N)], "{l}");
        let report = t::import(app, &admin(), ImportKind::Products, &articles, &APPLY, &|_, _| {}).await.expect(l);
        assert_eq!(report, ImportReport { rows: N, created: N, applied: true, ..Default::default() }, "{l}");

        let list = parties(app, PartyRole::Customer).await;
        assert_eq!(list.len(), N, "{l}");
        let p = list.iter().find(|p| p.code.as_deref() == Some("K01234")).expect("K01234");
        assert_eq!(
            (p.name.as_str(), p.tax_id.as_deref(), p.email.as_deref(), p.credit_limit.as_deref(), p.payment_terms_days),
            ("Comercio Quebracho 1234", Some(tax[1234].as_str()), Some("k1234@example.com"), Some("2234.50"), 30),
            "{l}"
        );
        assert_eq!(
            (p.tags.clone(), p.version, p.is_customer, p.is_supplier),
            (vec!["mayorista".to_string(), "sur".to_string()], 1, true, false)
        );
        let list = products(app).await;
        assert_eq!(list.len(), N, "{l}");
        let a = list.iter().find(|a| a.code == "P02599").expect("P02599");
        assert_eq!(
            (a.name.as_str(), a.sale_price.as_str(), a.cost.as_str(), a.unit.as_str()),
            ("Tornillo zincado 2599", "2609.25", "2604.00", "u")
        );

        // One audit entry per record, the chain intact, each entry the record as created.
        let v = app::audit::verify(app).await.expect("verify");
        assert_eq!((v.entries, v.first_bad), (2 * N as i64, None), "{l}");
        let history = app::audit::history(app, &admin(), domain::access::Resource::Customers, "party", &p.id).await.expect("history");
        assert_eq!(history.len(), 1, "{l}");
        assert_eq!(history[0].action, "create");
        assert!(history[0].changes.iter().any(|(f, _, after)| f == "tax_id" && after == &tax[1234]), "{l}: {:?}", history[0].changes);

        // The search index has rows of every chunk: by code, by tax id without hyphens, by name.
        for i in [0, 499, 500, 1234, 2001, N - 1] {
            let q = |q: String| ListParams { q: Some(q), limit: Some(10), ..Default::default() };
            let found = m::list_parties(app, &admin(), PartyRole::Customer, &q(format!("k{i:05}"))).await.expect("search").items;
            assert_eq!(found.iter().map(|p| p.name.clone()).collect::<Vec<_>>(), vec![format!("Comercio Quebracho {i}")], "{l}: {i}");
            let found = m::list_parties(app, &admin(), PartyRole::Customer, &q(tax[i].replace('-', ""))).await.expect("search").items;
            assert_eq!(found.len(), 1, "{l}: {i}");
            let found = m::list_products(app, &admin(), &q(format!("zincado {i}"))).await.expect("search").items;
            assert!(found.iter().any(|a| a.code == format!("P{i:05}")), "{l}: {i}");
            let hits = m::search(app, &admin(), &format!("quebracho {i}")).await.expect("search");
            assert!(hits.iter().any(|h| h.kind == "customer" && h.title == format!("Comercio Quebracho {i}")), "{l}: {i}");
        }

        // Past the bulk load, a record written on its own is found as soon as it is saved.
        let one = app::master::PartyIn { name: Some("Aserradero Ñandubay".into()), ..Default::default() };
        let one = m::create_party(app, &admin(), PartyRole::Customer, &one).await.expect(l);
        let q = ListParams { q: Some("ñandubay".into()), limit: Some(10), ..Default::default() };
        let found = m::list_parties(app, &admin(), PartyRole::Customer, &q).await.expect("search").items;
        assert_eq!(found.iter().map(|p| p.id.clone()).collect::<Vec<_>>(), vec![one.id.clone()], "{l}");
        m::archive_party(app, &admin(), PartyRole::Customer, &one.id).await.expect(l);

        // Again: nothing new, nothing written.
        let again = t::import(app, &admin(), ImportKind::Customers, &customers, &APPLY, &|_, _| {}).await.expect(l);
        assert_eq!((again.unchanged, again.created, again.updated), (N, 0, 0), "{l}");
        let again = t::import(app, &admin(), ImportKind::Products, &articles, &APPLY, &|_, _| {}).await.expect(l);
        assert_eq!((again.unchanged, again.created, again.updated), (N, 0, 0), "{l}");
        // Each imported row's audit entry, and the one customer's creation and archiving.
        assert_eq!(app::audit::verify(app).await.expect("verify").entries, 2 * N as i64 + 2, "{l}");
        db.cleanup().await;
    }
}

/// Bad rows in the middle of a chunk, keys repeated within a chunk and across chunks, and
/// values the database refuses: the report names each row as if the rows had gone one by
/// one, and only the good rows are kept.
#[tokio::test]
async fn bad_rows_in_the_middle_of_a_chunk_are_reported_exactly() {
    const N: usize = 2_500; // three chunks or two
    let mut rows: Vec<[String; 4]> = (0..N as u32)
        .map(|i| [format!("C{i:04}"), format!("Cliente {i}"), cuit(30, 40_000_000 + i * 7), format!("c{i}@example.com")])
        .collect();
    rows[699][2] = bad_cuit(30, 40_000_000 + 699 * 7); // row 700
    rows[700][3] = "no-es-un-correo".into(); // row 701
    rows[2299][2] = rows[9][2].replace('-', ""); // row 2300: the CUIT of row 10, in another chunk
    rows[2299][0] = "C9999".into();
    rows[1099][0] = rows[1049][0].to_lowercase(); // row 1100: the code of row 1050, same chunk
    rows[1099][2] = String::new();
    let csv = |rows: &[[String; 4]]| {
        let mut s = String::from("Código;Razón Social;CUIT;Correo\n");
        for r in rows {
            s.push_str(&format!("{};{};{};{}\n", r[0], r[1], r[2], r[3]));
        }
        s.into_bytes()
    };
    let file = csv(&rows);
    let errors = vec![
        err(700, "tax_id", "taxid-bad-check-digit"),
        err(701, "email", "email-invalid"),
        err(1100, "code", "import-duplicate-row"),
        err(2300, "tax_id", "import-duplicate-row"),
    ];
    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        for opts in [APPLY, DRY] {
            let report = import(app, ImportKind::Customers, &file, opts).await;
            assert_eq!(report, ImportReport { rows: N, created: N - 4, errors: errors.clone(), ..Default::default() }, "{l}");
            assert!(parties(app, PartyRole::Customer).await.is_empty(), "{l}: nothing stored");
        }
        let report = import(app, ImportKind::Customers, &file, SKIP).await;
        assert_eq!(
            report,
            ImportReport { rows: N, created: N - 4, skipped: 4, errors: errors.clone(), applied: true, ..Default::default() },
            "{l}"
        );
        let list = parties(app, PartyRole::Customer).await;
        assert_eq!(list.len(), N - 4, "{l}");
        assert!(list.iter().all(|p| !["Cliente 699", "Cliente 700", "Cliente 1099", "Cliente 2299"].contains(&p.name.as_str())), "{l}");
        let v = app::audit::verify(app).await.expect("verify");
        assert_eq!((v.entries, v.first_bad), ((N - 4) as i64, None), "{l}");

        // Row 1 gives the first customer a new code; row 2, a new customer, names that code
        // too: the database refuses the chunk's insert (the code was free when the chunk was
        // read), so the chunk goes again row by row and names row 2.
        let second = cuit(30, 49_000_000);
        let file = csv(&[
            [String::from("NUEVO"), rows[0][1].clone(), rows[0][2].clone(), rows[0][3].clone()],
            [String::from("nuevo"), String::from("Otro Cliente"), second.clone(), String::new()],
            [String::from("C8888"), String::from("Tercer Cliente"), cuit(30, 49_000_100), String::new()],
        ]);
        let report = import(app, ImportKind::Customers, &file, SKIP).await;
        assert_eq!(
            report,
            ImportReport {
                rows: 3,
                created: 1,
                updated: 1,
                skipped: 1,
                errors: vec![err(2, "tax_id", "import-duplicate-row")],
                applied: true,
                ..Default::default()
            },
            "{l}"
        );
        let list = parties(app, PartyRole::Customer).await;
        assert_eq!(list.len(), N - 3, "{l}");
        assert!(list.iter().any(|p| p.code.as_deref() == Some("NUEVO") && p.tax_id.as_deref() == Some(rows[0][2].as_str())), "{l}");
        assert!(!list.iter().any(|p| p.tax_id.as_deref() == Some(second.as_str())), "{l}");
        let v = app::audit::verify(app).await.expect("verify");
        assert_eq!((v.entries, v.first_bad), ((N - 2) as i64, None), "{l}");

        // Articles: a barcode another article has (unique too) is the row's problem.
        let file = "Código;Nombre;Código de barras\nA-1;Martillo;7790001000019\nA-2;Pinza;7790001000019\nA-3;Tenaza;\n";
        let report = import(app, ImportKind::Products, file.as_bytes(), SKIP).await;
        assert_eq!(
            report,
            ImportReport {
                rows: 3,
                created: 2,
                skipped: 1,
                errors: vec![err(2, "barcode", "value-duplicate")],
                applied: true,
                ..Default::default()
            },
            "{l}"
        );
        let file = "Código;Nombre;Código de barras\nA-4;Serrucho;7790001000019\n";
        let report = import(app, ImportKind::Products, file.as_bytes(), APPLY).await;
        assert_eq!(report.errors, vec![err(1, "barcode", "value-duplicate")], "{l}");
        assert_eq!(products(app).await.into_iter().map(|p| p.code).collect::<Vec<_>>(), vec!["A-1", "A-3"], "{l}");
        let v = app::audit::verify(app).await.expect("verify");
        assert_eq!((v.entries, v.first_bad), (N as i64, None), "{l}");
        db.cleanup().await;
    }
}

/// Speed: `TRANSFER_ROWS=20000 cargo test --release -p app --test transfer -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn import_speed() {
    let n: u32 = std::env::var("TRANSFER_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let mut s = String::from("Código;Nombre;CUIT;Correo;Teléfono;Ciudad;Límite de crédito;Días de pago;Etiquetas\n");
    for i in 0..n {
        s.push_str(&format!(
            "C{i:06};Cliente {i};{};c{i}@example.com;+54 11 4555-{:04};Rosario;100000;30;mayorista\n",
            cuit(30, 50_000_000 + i * 7),
            i % 10_000
        ));
    }
    for db in databases().await {
        let started = std::time::Instant::now();
        let table = t::read_table(s.as_bytes()).expect("table");
        let read = started.elapsed();
        let table: &Table = &table;
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let report = t::import(&db.app, &admin(), ImportKind::Customers, table, &APPLY, &|_, _| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .await
        .expect("import");
        let total = started.elapsed();
        assert_eq!(report.created, n as usize, "{:?}", report.errors.first());
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), (n as usize - 1) / 500 + 1);
        println!(
            "{}: {n} customers read in {:.2?}, imported in {:.2?}: {:.0} rows/s",
            db.label,
            read,
            total,
            f64::from(n) / total.as_secs_f64()
        );
        let started = std::time::Instant::now();
        let again = t::import(&db.app, &admin(), ImportKind::Customers, table, &APPLY, &|_, _| {}).await.expect("import");
        assert_eq!(again.unchanged, n as usize);
        println!(
            "{}: second import (all unchanged) in {:.2?}: {:.0} rows/s",
            db.label,
            started.elapsed(),
            f64::from(n) / started.elapsed().as_secs_f64()
        );
        db.cleanup().await;
    }
}
