//! Renders real documents and reads the PDFs back with `pdftotext` (poppler-utils).
//!
//! The PDFs stay in `target/tmp/print/` to be looked at; `pdftoppm -png -r 80 FILE OUT`
//! turns them into images.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use domain::words::amount_in_words_es;
use print::{Align, Column, Field, Labels, PrintDocument, PrintError, PrintParty, PrintStatement, PrintTax, Printer};

// ---- Fixtures -----------------------------------------------------------------------

fn company() -> PrintParty {
    PrintParty {
        name: "Ferretería El Tornillo S.R.L.".into(),
        tax_id: Some(Field::new("CUIT", "30-71234567-9")),
        address: vec!["Av. Corrientes 1234, piso 2".into(), "C1043AAZ Ciudad Autónoma de Buenos Aires".into()],
        phone: Some("+54 11 4321-0000".into()),
        email: Some("ventas@eltornillo.com.ar".into()),
        website: Some("www.eltornillo.com.ar".into()),
        extra: vec![Field::new("Condición IVA", "Responsable Inscripto"), Field::new("Inicio de actividades", "01/03/2015")],
    }
}

fn customer() -> PrintParty {
    PrintParty {
        name: "Construcciones Pampa S.A.".into(),
        tax_id: Some(Field::new("CUIT", "30-70987654-3")),
        address: vec!["Ruta 8 km 45".into(), "B1629 Pilar, Buenos Aires".into()],
        phone: None,
        email: Some("compras@pampa.com.ar".into()),
        website: None,
        extra: vec![Field::new("Condición IVA", "Responsable Inscripto")],
    }
}

fn logo() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/logo.png");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn article_columns() -> Vec<Column> {
    vec![
        Column::new("Código", Align::Left),
        Column::fill("Descripción"),
        Column::new("Cant.", Align::Right),
        Column::new("Precio unit.", Align::Right),
        Column::new("Bonif. %", Align::Right),
        Column::new("IVA", Align::Center),
        Column::new("Importe", Align::Right),
    ]
}

/// An invoice with `lines` article lines (amounts are fixtures, not arithmetic).
fn invoice(lines: usize) -> PrintDocument {
    let descriptions = [
        "Tornillo autorroscante 8 x 1\" (caja x 100)",
        "Taladro percutor 750 W con maletín, mandril de 13 mm, velocidad variable y reversa; \
         incluye juego de 5 mechas para hormigón",
        "Cinta métrica 5 m",
        "Guantes de trabajo\nTalle L — cuero descarne",
    ];
    let rows = (0..lines)
        .map(|i| {
            vec![
                format!("ART-{:05}", 101 + i),
                descriptions[i % descriptions.len()].to_string(),
                format!("{},00", 1 + i % 12),
                "1.234,50".into(),
                if i % 5 == 0 { "10,00".into() } else { String::new() },
                "21 %".into(),
                format!("{}.{:03},00", 1 + i % 9, (i * 37) % 1000),
            ]
        })
        .collect();
    PrintDocument {
        title: "Factura".into(),
        number: "0001-00000042".into(),
        letter: Some("A".into()),
        letter_code: Some("Cód. 01".into()),
        date: "15/03/2026".into(),
        due_date: Some("14/04/2026".into()),
        company: company(),
        logo: Some(logo()),
        customer: customer(),
        references: vec![
            Field::new("Pedido", "0001-00000007"),
            Field::new("Remito", "0001-00000019"),
            Field::new("Vendedor", "Ana Gómez"),
            Field::new("Condición de venta", "Cuenta corriente 30 días"),
        ],
        columns: article_columns(),
        rows,
        tax_breakdown: vec![
            PrintTax { label: "IVA 21 %".into(), base: "1.000,00".into(), tax: "210,00".into() },
            PrintTax { label: "IVA 10,5 %".into(), base: "200,00".into(), tax: "21,00".into() },
        ],
        totals: vec![
            Field::new("Subtotal", "1.200,00"),
            Field::new("IVA 21 %", "210,00"),
            Field::new("IVA 10,5 %", "21,00"),
            Field::new("Total", "$ 1.431,00"),
        ],
        amount_in_words: Some(amount_in_words_es(143_100, 2, "pesos")),
        notes: Some("Entrega en obra, de lunes a viernes de 8 a 16 h.\nLa mercadería viaja por cuenta y riesgo del comprador.".into()),
        footer: Some("CAE N° 74123456789012 — Vto. CAE 25/03/2026 · Transferencias: CBU 0070999020000012345678".into()),
        watermark: None,
        lang: "es".into(),
        labels: Labels::default(),
    }
}

fn receipt() -> PrintDocument {
    PrintDocument {
        title: "Recibo".into(),
        number: "0001-00000311".into(),
        letter: Some("X".into()),
        date: "20/03/2026".into(),
        company: company(),
        logo: Some(logo()),
        customer: customer(),
        references: vec![Field::new("Medio de pago", "Transferencia bancaria"), Field::new("Cobrador", "Luis Pérez")],
        columns: vec![
            Column::new("Fecha", Align::Left),
            Column::fill("Comprobante"),
            Column::new("Vencimiento", Align::Left),
            Column::new("Importe", Align::Right),
            Column::new("Aplicado", Align::Right),
        ],
        rows: vec![
            vec!["15/02/2026".into(), "Factura A 0001-00000031".into(), "17/03/2026".into(), "5.000,00".into(), "5.000,00".into()],
            vec!["15/03/2026".into(), "Factura A 0001-00000042".into(), "14/04/2026".into(), "1.431,00".into(), "1.000,00".into()],
            vec!["Pago a cuenta".into()],
        ],
        totals: vec![Field::new("Total recibido", "$ 6.000,00")],
        amount_in_words: Some(amount_in_words_es(600_000, 2, "pesos")),
        lang: "es".into(),
        labels: Labels::default(),
        ..PrintDocument::default()
    }
}

fn statement(movements: usize) -> PrintStatement {
    let mut rows = vec![vec!["01/01/2026".into(), "Saldo anterior".into(), String::new(), String::new(), String::new(), "2.500,00".into()]];
    for i in 0..movements {
        let invoice = i % 2 == 0;
        rows.push(vec![
            format!("{:02}/01/2026", 2 + i % 28),
            if invoice { format!("Factura A 0001-{:08}", 100 + i) } else { format!("Recibo 0001-{:08}", 300 + i) },
            if invoice { format!("{:02}/02/2026", 1 + i % 28) } else { String::new() },
            if invoice { "1.210,00".into() } else { String::new() },
            if invoice { String::new() } else { "1.000,00".into() },
            format!("{}.{:03},00", 2 + i / 10, (i * 105) % 1000),
        ]);
    }
    PrintStatement {
        title: "Estado de cuenta".into(),
        date: "31/03/2026".into(),
        period: Some("01/01/2026 – 31/03/2026".into()),
        company: company(),
        logo: Some(logo()),
        customer: customer(),
        references: vec![Field::new("Condición de venta", "30 días"), Field::new("Límite de crédito", "$ 500.000,00")],
        columns: vec![
            Column::new("Fecha", Align::Left),
            Column::fill("Comprobante"),
            Column::new("Vencimiento", Align::Left),
            Column::new("Debe", Align::Right),
            Column::new("Haber", Align::Right),
            Column::new("Saldo", Align::Right),
        ],
        rows,
        ageing: vec![
            Field::new("Al día", "1.210,00"),
            Field::new("1–30 días", "2.420,00"),
            Field::new("31–60 días", "0,00"),
            Field::new("61–90 días", "605,00"),
            Field::new("Más de 90", "0,00"),
        ],
        balance: Field::new("Saldo al 31/03/2026", "$ 4.235,00"),
        notes: Some("Por favor, informe sus pagos a cobranzas@eltornillo.com.ar.".into()),
        footer: Some("Ferretería El Tornillo S.R.L. — CUIT 30-71234567-9".into()),
        watermark: None,
        lang: "es".into(),
        labels: Labels::default(),
    }
}

// ---- Helpers ------------------------------------------------------------------------

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("print");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// A fresh directory for one test's templates.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = out_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn save(name: &str, pdf: &[u8]) -> PathBuf {
    assert!(pdf.starts_with(b"%PDF-"), "{name} is not a PDF");
    let path = out_dir().join(name);
    std::fs::write(&path, pdf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// The text of each page, whitespace collapsed; `None` when poppler-utils is missing
/// (a failure on CI, a notice elsewhere).
fn pages(path: &Path) -> Option<Vec<String>> {
    let output = match Command::new("pdftotext").arg("-layout").arg(path).arg("-").output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("pdftotext is not installed (apt-get install -y poppler-utils)");
            }
            eprintln!(
                "skipped: pdftotext is not installed, the text of {} is not checked (apt-get install -y poppler-utils)",
                path.display()
            );
            return None;
        }
        Err(e) => panic!("pdftotext: {e}"),
    };
    assert!(output.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("pdftotext output: {e}"));
    let mut pages: Vec<String> = text.split('\x0c').map(|page| page.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    if pages.last().is_some_and(|p| p.is_empty()) {
        pages.pop();
    }
    Some(pages)
}

fn assert_contains(haystack: &str, needle: &str) {
    assert!(haystack.contains(needle), "{needle:?} not found in:\n{haystack}");
}

fn printer() -> Printer {
    Printer::new(None)
}

// ---- Tests --------------------------------------------------------------------------

#[test]
fn printer_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Printer>();
    let printer = Arc::new(printer());
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let printer = Arc::clone(&printer);
            std::thread::spawn(move || printer.document(&invoice(3 + i)).map(|pdf| pdf.len()))
        })
        .collect();
    for handle in handles {
        let size = handle.join().unwrap_or_else(|_| panic!("render thread panicked")).unwrap_or_else(|e| panic!("{e}"));
        assert!(size > 1000);
    }
}

#[test]
fn three_line_invoice() {
    let mut doc = invoice(3);
    // Text is data, never markup: typst's special characters print as they are.
    doc.rows[2][1] = "Llave 1/2\" #12 *oferta* _neto_ $x$ @ref <b> `code` \\ [a] = fin".into();
    let pdf = printer().document(&doc).unwrap_or_else(|e| panic!("{e}"));
    let path = save("invoice-3.pdf", &pdf);
    let Some(pages) = pages(&path) else { return };
    assert_eq!(pages.len(), 1, "{pages:#?}");
    let text = &pages[0];
    for needle in [
        "FACTURA",
        "N° 0001-00000042",
        "Cód. 01",
        "Ferretería El Tornillo S.R.L.",
        "Construcciones Pampa S.A.",
        "CUIT: 30-70987654-3",
        "Vencimiento 14/04/2026",
        "Vendedor Ana Gómez",
        "Taladro percutor 750 W",
        "ART-00103 Llave 1/2\" #12 *oferta* _neto_ $x$ @ref <b> `code` \\ [a] = fin 3,00",
        "Subtotal 1.200,00",
        "Total $ 1.431,00",
        "IVA 10,5 % 200,00 21,00",
        "Son pesos mil cuatrocientos treinta y uno con 00/100",
        "La mercadería viaja por cuenta y riesgo del comprador.",
        "CAE N° 74123456789012",
        "Página 1 de 1",
    ] {
        assert_contains(text, needle);
    }
}

#[test]
fn long_invoice_continues_over_pages() {
    let doc = invoice(120);
    let pdf = printer().document(&doc).unwrap_or_else(|e| panic!("{e}"));
    let path = save("invoice-120.pdf", &pdf);
    let Some(pages) = pages(&path) else { return };
    let n = pages.len();
    assert!(n > 1, "120 lines fit on one page?");
    for (i, page) in pages.iter().enumerate() {
        assert_contains(page, &format!("Página {} de {n}", i + 1));
        // The table's header row repeats on every page.
        assert_contains(page, "Código Descripción Cant. Precio unit. Bonif. % IVA Importe");
        if i > 0 {
            assert_contains(page, "Factura 0001-00000042 — Construcciones Pampa S.A. (continuación)");
        }
    }
    // Every line is printed exactly once, in order.
    let all = pages.join(" ");
    let mut last = 0;
    for i in 0..120 {
        let code = format!("ART-{:05}", 101 + i);
        assert_eq!(all.matches(&code).count(), 1, "{code}");
        let at = all.find(&code).unwrap_or_default();
        assert!(at > last, "{code} out of order");
        last = at;
    }
    assert_contains(&pages[n - 1], "Total $ 1.431,00");
    assert_contains(&pages[n - 1], "Son pesos mil cuatrocientos treinta y uno con 00/100");
}

#[test]
fn receipt_lists_the_invoices_paid() {
    let pdf = printer().document(&receipt()).unwrap_or_else(|e| panic!("{e}"));
    let path = save("receipt.pdf", &pdf);
    let Some(pages) = pages(&path) else { return };
    assert_eq!(pages.len(), 1);
    let text = &pages[0];
    for needle in [
        "RECIBO",
        "Fecha Comprobante Vencimiento Importe Aplicado",
        "15/02/2026 Factura A 0001-00000031 17/03/2026 5.000,00 5.000,00",
        "Pago a cuenta",
        "Total recibido $ 6.000,00",
        "Son pesos seis mil con 00/100",
        "Medio de pago Transferencia bancaria",
        "Construcciones Pampa S.A.",
        "Página 1 de 1",
    ] {
        assert_contains(text, needle);
    }
    assert!(!text.contains("Vencimiento 14/04"), "a receipt without due date shows none");
}

#[test]
fn account_statement() {
    let pdf = printer().statement(&statement(12)).unwrap_or_else(|e| panic!("{e}"));
    let path = save("statement.pdf", &pdf);
    let Some(pages) = pages(&path) else { return };
    assert_eq!(pages.len(), 1);
    let text = &pages[0];
    for needle in [
        "ESTADO DE CUENTA",
        "Período 01/01/2026 – 31/03/2026",
        "Construcciones Pampa S.A.",
        "Fecha Comprobante Vencimiento Debe Haber Saldo",
        "Saldo anterior 2.500,00",
        "Factura A 0001-00000100",
        "ANTIGÜEDAD DE SALDOS",
        "Al día 1–30 días 31–60 días 61–90 días Más de 90",
        "1.210,00 2.420,00 0,00 605,00 0,00",
        "Saldo al 31/03/2026 $ 4.235,00",
        "Página 1 de 1",
    ] {
        assert_contains(text, needle);
    }
}

#[test]
fn long_statement_continues_over_pages() {
    let pdf = printer().statement(&statement(150)).unwrap_or_else(|e| panic!("{e}"));
    let path = save("statement-150.pdf", &pdf);
    let Some(pages) = pages(&path) else { return };
    let n = pages.len();
    assert!(n > 1);
    for (i, page) in pages.iter().enumerate() {
        assert_contains(page, &format!("Página {} de {n}", i + 1));
        assert_contains(page, "Fecha Comprobante Vencimiento Debe Haber Saldo");
    }
    assert_contains(&pages[n - 1], "Saldo al 31/03/2026 $ 4.235,00");
}

#[test]
fn english_labels_and_a_draft_without_logo_or_letter() {
    let mut doc = invoice(2);
    doc.title = "Quote".into();
    doc.number = "Draft".into();
    doc.letter = None;
    doc.letter_code = None;
    doc.logo = None;
    doc.references.clear();
    doc.tax_breakdown.clear();
    doc.amount_in_words = None;
    doc.watermark = Some("Draft".into());
    doc.lang = "en".into();
    doc.labels = Labels {
        page: "Page".into(),
        of: "of".into(),
        number: "No.".into(),
        date: "Date".into(),
        due_date: "Valid until".into(),
        customer: "Customer".into(),
        ..Labels::default()
    };
    let pdf = printer().document(&doc).unwrap_or_else(|e| panic!("{e}"));
    let path = save("quote-draft-en.pdf", &pdf);
    let Some(pages) = pages(&path) else { return };
    let text = &pages[0];
    for needle in ["QUOTE", "No. Draft", "Valid until 14/04/2026", "CUSTOMER", "Page 1 of 1"] {
        assert_contains(text, needle);
    }
}

#[test]
fn svg_logo_and_unknown_logo() {
    let mut doc = invoice(1);
    doc.logo = Some(
        br##"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="80" viewBox="0 0 300 80">
            <rect width="80" height="80" rx="12" fill="#1f6f43"/><text x="95" y="55" font-size="40" fill="#1f6f43">Tornillo</text></svg>"##
            .to_vec(),
    );
    let pdf = printer().document(&doc).unwrap_or_else(|e| panic!("{e}"));
    save("invoice-svg-logo.pdf", &pdf);

    doc.logo = Some(b"this is not an image".to_vec());
    assert!(matches!(printer().document(&doc), Err(PrintError::Logo)));
}

#[test]
fn rows_must_match_the_columns() {
    let mut doc = invoice(3);
    doc.rows[1].pop();
    let err = printer().document(&doc).err().unwrap_or_else(|| panic!("a short row was accepted"));
    assert!(matches!(err, PrintError::Data(_)));
    assert_contains(&err.to_string(), "row 2 has 6 cells but the table has 7 columns");
}

#[test]
fn a_business_template_overrides_the_shipped_one_and_edits_show_at_once() {
    let dir = scratch_dir("override");
    let printer = Printer::new(Some(dir.clone()));

    // Without a file of its own, the business gets the shipped template.
    let shipped = printer.document(&invoice(1)).unwrap_or_else(|e| panic!("{e}"));
    save("override-0.pdf", &shipped);

    std::fs::write(dir.join("firma.typ"), "#let firma = [Atentamente, la gerencia]\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.join("document.typ"),
        "#import \"firma.typ\": firma\n#let data = json(\"data.json\")\n#set text(font: \"Libertinus Serif\")\n\
         = Plantilla propia: #data.title #data.number\n#image(data.logo, height: 1cm)\n#for f in data.totals [#f.label: #f.value \\ ]\n#firma\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let first = printer.document(&invoice(1)).unwrap_or_else(|e| panic!("{e}"));
    let first_path = save("override-1.pdf", &first);

    std::fs::write(dir.join("document.typ"), "#let data = json(\"data.json\")\nSegunda versión para #data.customer.name\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let second = printer.document(&invoice(1)).unwrap_or_else(|e| panic!("{e}"));
    let second_path = save("override-2.pdf", &second);

    // The statement has no override: still the shipped one.
    let statement_pdf = printer.statement(&statement(2)).unwrap_or_else(|e| panic!("{e}"));
    let statement_path = save("override-statement.pdf", &statement_pdf);

    let Some(shipped_pages) = pages(&save("override-0.pdf", &shipped)) else { return };
    assert_contains(&shipped_pages[0], "FACTURA");
    let Some(first_pages) = pages(&first_path) else { return };
    assert_contains(&first_pages[0], "Plantilla propia: Factura 0001-00000042");
    assert_contains(&first_pages[0], "Total: $ 1.431,00");
    assert_contains(&first_pages[0], "Atentamente, la gerencia");
    let Some(second_pages) = pages(&second_path) else { return };
    assert_contains(&second_pages[0], "Segunda versión para Construcciones Pampa S.A.");
    let Some(statement_pages) = pages(&statement_path) else { return };
    assert_contains(&statement_pages[0], "ESTADO DE CUENTA");
}

#[test]
fn a_broken_business_template_is_a_readable_error() {
    let dir = scratch_dir("broken");
    let printer = Printer::new(Some(dir.clone()));

    std::fs::write(dir.join("document.typ"), "#let data = json(\"data.json\")\nHola #data.custommer.name\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let err = printer.document(&invoice(1)).err().unwrap_or_else(|| panic!("a broken template printed"));
    let message = err.to_string();
    eprintln!("{message}");
    assert!(matches!(err, PrintError::Template { .. }));
    assert_contains(&message, "template document.typ failed");
    assert_contains(&message, "document.typ:2:");
    assert_contains(&message, "custommer");
    assert_contains(&message, "| Hola #data.custommer.name");

    std::fs::write(dir.join("document.typ"), "#let data = json(\"data.json\"\n#table(columns: 2, [a]\n").unwrap_or_else(|e| panic!("{e}"));
    let message = printer.document(&invoice(1)).err().unwrap_or_else(|| panic!("a template with a syntax error printed")).to_string();
    eprintln!("{message}");
    assert_contains(&message, "document.typ:");
    assert_contains(&message, "error:");

    std::fs::write(dir.join("document.typ"), "#import \"no-such-file.typ\": *\n").unwrap_or_else(|e| panic!("{e}"));
    let message = printer.document(&invoice(1)).err().unwrap_or_else(|| panic!("a missing import printed")).to_string();
    eprintln!("{message}");
    assert_contains(&message, "no-such-file.typ");

    std::fs::write(dir.join("document.typ"), "#let n = 0\n#while true { n += 1 }\n").unwrap_or_else(|e| panic!("{e}"));
    let message = printer.document(&invoice(1)).err().unwrap_or_else(|| panic!("an endless loop printed")).to_string();
    eprintln!("{message}");
    assert_contains(&message, "document.typ:2:");

    // Reading outside the template directory is refused.
    std::fs::write(dir.join("document.typ"), "#read(\"../../../../../../etc/hostname\")\n").unwrap_or_else(|e| panic!("{e}"));
    assert!(printer.document(&invoice(1)).is_err());

    // Fixing the file fixes the print, without a new Printer.
    std::fs::remove_file(dir.join("document.typ")).unwrap_or_else(|e| panic!("{e}"));
    assert!(printer.document(&invoice(1)).is_ok());
}

/// The fonts in the PDF, as `pdffonts` lists them; `None` when poppler-utils is missing.
fn pdf_fonts(path: &Path) -> Option<String> {
    match Command::new("pdffonts").arg(path).output() {
        Ok(output) => Some(String::from_utf8_lossy(&output.stdout).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("pdffonts is not installed (apt-get install -y poppler-utils)");
            }
            eprintln!("skipped: pdffonts is not installed (apt-get install -y poppler-utils)");
            None
        }
        Err(e) => panic!("pdffonts: {e}"),
    }
}

#[test]
fn only_embedded_fonts_and_the_business_own() {
    // Any TrueType font will do; DejaVu Sans is on Debian machines with poppler-utils.
    let font = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    if !font.exists() {
        eprintln!("skipped: {} not found", font.display());
        return;
    }
    let template = "#set text(font: \"DejaVu Sans\")\nTexto en la fuente de la empresa.\n";

    // The system has the font, but the printer does not look at system fonts.
    let without = scratch_dir("fonts-without");
    std::fs::write(without.join("document.typ"), template).unwrap_or_else(|e| panic!("{e}"));
    let pdf = Printer::new(Some(without)).document(&invoice(1)).unwrap_or_else(|e| panic!("{e}"));
    let Some(fonts) = pdf_fonts(&save("fonts-without.pdf", &pdf)) else { return };
    assert!(!fonts.contains("DejaVuSans"), "{fonts}");

    // In the template directory's fonts/, it is used.
    let with = scratch_dir("fonts-with");
    std::fs::create_dir_all(with.join("fonts")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(font, with.join("fonts/DejaVuSans.ttf")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(with.join("document.typ"), template).unwrap_or_else(|e| panic!("{e}"));
    let pdf = Printer::new(Some(with)).document(&invoice(1)).unwrap_or_else(|e| panic!("{e}"));
    let Some(fonts) = pdf_fonts(&save("fonts-with.pdf", &pdf)) else { return };
    assert!(fonts.contains("DejaVuSans"), "{fonts}");

    // The shipped templates use only the embedded Libertinus Serif.
    let pdf = printer().document(&invoice(3)).unwrap_or_else(|e| panic!("{e}"));
    let Some(fonts) = pdf_fonts(&save("fonts-shipped.pdf", &pdf)) else { return };
    assert!(fonts.contains("LibertinusSerif"), "{fonts}");
    assert!(!fonts.contains("DejaVu"), "{fonts}");
}

/// `cargo test -p print --release --test render -- --ignored --nocapture timing`
#[test]
#[ignore = "a measurement, run on demand in release"]
fn timing_of_a_one_page_invoice() {
    let start = std::time::Instant::now();
    let printer = printer();
    let new = start.elapsed();
    let doc = invoice(8);
    let first = std::time::Instant::now();
    printer.document(&doc).unwrap_or_else(|e| panic!("{e}"));
    let first = first.elapsed();
    let mut times = Vec::with_capacity(200);
    for i in 0..200 {
        // A different number each time, as in real use, so nothing is served whole from cache.
        let mut doc = doc.clone();
        doc.number = format!("0001-{:08}", 1000 + i);
        let start = std::time::Instant::now();
        let pdf = printer.document(&doc).unwrap_or_else(|e| panic!("{e}"));
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(!pdf.is_empty());
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "Printer::new {:.1} ms; one-page invoice: first {:.1} ms; then over 200 renders median {:.2} ms, min {:.2}, max {:.2}, mean {:.2} ms/render",
        new.as_secs_f64() * 1000.0,
        first.as_secs_f64() * 1000.0,
        times[100],
        times[0],
        times[199],
        mean
    );
}
