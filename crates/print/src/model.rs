//! What a template receives. Every number arrives as text, already formatted in the
//! reader's locale ("1.210,00", "$ 1,210.00"): the printer lays out, it never computes.
//!
//! The templates read these structures as JSON (`json("data.json")`), so the field names
//! below are also the names a business uses when it edits its own template.

use serde::{Deserialize, Serialize};

/// A label and its value: ("CUIT", "30-71234567-9"), ("Pedido", "0001-00000007"),
/// ("Total", "$ 1.210,00").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub label: String,
    pub value: String,
}

impl Field {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field { label: label.into(), value: value.into() }
    }
}

/// The company issuing the document, or its customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrintParty {
    /// Legal name ("Ferretería El Tornillo S.R.L.").
    pub name: String,
    /// The tax id with its country's label: ("CUIT", "30-71234567-9"), ("RUT", …), ("NIF", …).
    pub tax_id: Option<Field>,
    /// Postal address, one printed line each.
    pub address: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    /// Anything else the law or the business wants under the name: ("Condición IVA",
    /// "Responsable Inscripto"), ("Ingresos Brutos", "901-123456-7"), ("Cuenta", "C-0042").
    pub extra: Vec<Field>,
}

/// Where a column's text sits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// One column of a document's table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Column {
    /// The header, already translated ("Descripción", "Cant.", "Importe").
    pub label: String,
    /// Amounts and quantities: `Right`.
    pub align: Align,
    /// Takes the width the other columns leave (the description). Columns without it are
    /// as wide as their widest cell; if no column fills, all get equal widths.
    pub fill: bool,
}

impl Column {
    pub fn new(label: impl Into<String>, align: Align) -> Column {
        Column { label: label.into(), align, fill: false }
    }

    /// The column that takes the remaining width (usually the description).
    pub fn fill(label: impl Into<String>) -> Column {
        Column { label: label.into(), align: Align::Left, fill: true }
    }
}

/// A tax line of the breakdown: ("IVA 21 %", base "1.000,00", tax "210,00").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrintTax {
    pub label: String,
    pub base: String,
    pub tax: String,
}

/// Fixed words of the layout, already translated. [`Labels::default`] is Spanish; the
/// application fills them from its translation catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Labels {
    /// "Página" in "Página 2 de 3".
    pub page: String,
    /// "de" in "Página 2 de 3".
    pub of: String,
    /// Before the document number ("N°").
    pub number: String,
    pub date: String,
    pub due_date: String,
    /// Over the customer's box ("Cliente", "Señor(es)").
    pub customer: String,
    /// Before the phone number ("Tel.").
    pub phone: String,
    /// Heading of the tax breakdown's first column ("Impuesto").
    pub tax: String,
    /// "Base imponible".
    pub tax_base: String,
    /// "Importe" (of the tax).
    pub tax_amount: String,
    /// Heading of the notes ("Observaciones").
    pub notes: String,
    /// Statement: heading of the ageing row ("Antigüedad de saldos").
    pub ageing: String,
    /// Statement: before the period ("Período").
    pub period: String,
    /// Shown on pages after the first, after the document's name ("continuación").
    pub continued: String,
}

impl Default for Labels {
    fn default() -> Labels {
        Labels {
            page: "Página".into(),
            of: "de".into(),
            number: "N°".into(),
            date: "Fecha".into(),
            due_date: "Vencimiento".into(),
            customer: "Cliente".into(),
            phone: "Tel.".into(),
            tax: "Impuesto".into(),
            tax_base: "Base imponible".into(),
            tax_amount: "Importe".into(),
            notes: "Observaciones".into(),
            ageing: "Antigüedad de saldos".into(),
            period: "Período".into(),
            continued: "continuación".into(),
        }
    }
}

/// A business document: quote, order, delivery note, invoice, credit or debit note,
/// receipt.
///
/// The table is generic: an invoice passes code, description, quantity, price, discount,
/// tax and amount columns; a delivery note leaves out the prices; a receipt lists the
/// invoices it pays. A row with a single cell spans the whole table (a section heading or
/// a comment line); any other row must have one cell per column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrintDocument {
    /// "Factura", "Presupuesto", "Remito", "Recibo", "Nota de crédito"...
    pub title: String,
    /// "0001-00000042", or "Borrador" while the document is not posted.
    pub number: String,
    /// The letter of an Argentine invoice ("A", "B", "C"), boxed at the top centre.
    pub letter: Option<String>,
    /// Printed small under the letter ("Cód. 01").
    pub letter_code: Option<String>,
    pub date: String,
    pub due_date: Option<String>,
    pub company: PrintParty,
    /// PNG, JPEG, GIF, WebP or SVG bytes. Templates see it as the image file `data.logo`.
    #[serde(skip)]
    pub logo: Option<Vec<u8>>,
    pub customer: PrintParty,
    /// Printed next to the customer: ("Pedido", "0001-00000007"), ("Vendedor", "Ana"),
    /// ("Condición de venta", "Cuenta corriente 30 días").
    pub references: Vec<Field>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    pub tax_breakdown: Vec<PrintTax>,
    /// ("Subtotal", "1.000,00"), ("IVA 21 %", "210,00"), ("Total", "$ 1.210,00"): the last
    /// one is the grand total, printed bold and larger.
    pub totals: Vec<Field>,
    /// "son pesos mil doscientos diez con 00/100" (see `domain::words`).
    pub amount_in_words: Option<String>,
    /// Free text under the totals; line breaks are kept.
    pub notes: Option<String>,
    /// Small print at the bottom of every page (legal text, bank account, thanks).
    pub footer: Option<String>,
    /// Printed across every page in light letters ("BORRADOR", "ANULADO").
    pub watermark: Option<String>,
    /// Language of the text, for hyphenation and quotes ("es", "en", "pt").
    pub lang: String,
    pub labels: Labels,
}

/// A customer's account statement: its movements with a running balance, the ageing of
/// what is owed and the closing balance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrintStatement {
    /// "Estado de cuenta".
    pub title: String,
    /// The day the statement is issued.
    pub date: String,
    /// "01/03/2026 – 31/03/2026".
    pub period: Option<String>,
    pub company: PrintParty,
    /// As in [`PrintDocument::logo`].
    #[serde(skip)]
    pub logo: Option<Vec<u8>>,
    pub customer: PrintParty,
    /// ("Condición de venta", "30 días"), ("Límite de crédito", "$ 500.000,00").
    pub references: Vec<Field>,
    /// Usually date, document, due date, debit, credit, balance.
    pub columns: Vec<Column>,
    /// The movements; an opening-balance row is simply the first row.
    pub rows: Vec<Vec<String>>,
    /// ("Al día", "1.000,00"), ("1–30", "0,00"), ("31–60", …), ("61–90", …), ("> 90", …).
    pub ageing: Vec<Field>,
    /// ("Saldo al 31/03/2026", "$ 12.345,67"), printed bold and larger.
    pub balance: Field,
    pub notes: Option<String>,
    pub footer: Option<String>,
    pub watermark: Option<String>,
    pub lang: String,
    pub labels: Labels,
}
