//! Import and export of master data: customers, suppliers and articles from and to CSV
//! and XLSX, contacts from and to vCard.
//!
//! **Reading** (`read_table`): an XLSX/XLSM (also XLS, XLSB and ODS, which `calamine`
//! reads just as well) is recognised by its signature; anything else must be CSV in UTF-8
//! (with or without BOM), separated by `,`, `;` or a tab (sniffed from the header line).
//! Headers are matched without regard to case, accents or punctuation, in Spanish or
//! English (`Razón social`, `CUIT`, `Precio de venta`, `tax_id`…); a column that means
//! nothing to Tendero is an error that names it: nothing in a file is silently ignored.
//!
//! **Importing** (`import`): one database transaction for the whole file. Rows go by
//! chunks (up to 2000: as many new records as one INSERT can bind), each in a savepoint:
//! the records their keys name are read at once, new records are checked in memory and
//! written with one INSERT (and their audit entries with another), while the next chunk is
//! read; a row that changes a record goes on its own, in a savepoint of its own (see
//! `import_chunk`). Rows are matched to existing records by their natural key
//! (parties: tax id, else code, else — for a row with neither — a name only one party
//! has; articles: code), so importing the same file twice creates nothing the second
//! time. A row whose values would change nothing is counted as `unchanged` and not
//! written (no new version, no audit entry). Columns absent from the file leave the
//! record's fields as they are; an *empty cell* in a present column clears the field
//! (tags, notes…) or resets it to its default (price 0, unit "u", kind goods) — except an
//! empty tax scheme, which means the company's. An archived record named by a row is
//! restored. A party named in a file of the other role (a customer in a suppliers file)
//! becomes both. The same key twice in one file is an error on the second row
//! (`import-duplicate-row`), not a silent merge.
//!
//! Without `skip_bad_rows` one bad row rolls back everything, but every row is still
//! checked so that the report lists all problems at once (up to [`MAX_ERRORS`]). With
//! `skip_bad_rows` each bad row is left out alone (it is refused before it is written, or
//! rolled back to its savepoint) and the good ones are kept. `dry_run` does all the work
//! and rolls back at the end, so duplicates within the file and against the database are
//! found exactly as in a real import. The counts in the report always say what the rows
//! did (or would have done); `applied` says whether it was kept.
//!
//! **Exporting** (`export`): every non-archived record, with Spanish headers that
//! `read_table` reads back, so that export → edit → import round-trips. CSV is written
//! with `,`, CRLF and a UTF-8 BOM (so Excel shows accents right); XLSX with a bold,
//! frozen header row, a filter, numeric cells for amounts and fitted column widths.
//!
//! **vCard** (`export_vcards`, `import_vcards`): version 4.0 out; 3.0 and 4.0 (and the
//! plain parts of 2.1) in. The `calcard` crate was considered: it parses and writes
//! vCard well, but it is an iCalendar/JSCalendar/JSContact library that pulls in
//! `chrono-tz` (a large generated time-zone table), `mail-parser`, `mail-builder`,
//! `ahash` and a proc-macro — minutes of build time on a 2-core machine for the six
//! properties a contact here has. The ~200 lines below (escaping, folding, unfolding,
//! parameters) are tested in this file and do what this module needs.

use crate::master::{self, Company, Contact, ListParams, Party, PartyIn, PartyRole, Product, ProductIn};
use crate::{audit, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::money::{self, format_scaled, PERCENT_SCALE};
use domain::party::{self, ContactInput, PartyInput};
use domain::product::{self, ProductInput};
use domain::taxid::TaxScheme;
use domain::text::fold;
use domain::validation::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::task::Poll;
use store::master::{self as rows, ContactRow, PartyRow, ProductRow, Record, TaxRateRow};
use store::{Conn, StoreError};

/// At most this many row errors are reported; past it an import without `skip_bad_rows`
/// stops (it will be rolled back anyway) and says so with `import-too-many-errors`.
pub const MAX_ERRORS: usize = 1000;
/// `progress` is called after every this many rows (and once at the end).
pub const PROGRESS_EVERY: usize = 500;
/// Larger files are refused before anything is read into the database.
pub const MAX_ROWS: usize = 1_000_000;

// ---------------------------------------------------------------- reading tables

/// A table read from a file: the header cells as written, and the data rows (each as
/// long as `headers`; blank rows are kept so that row numbers match the file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Why a file cannot be read as a table. Row numbers count data rows from 1 (the header
/// is row 0), so that a spreadsheet's line is `row + 1`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a spreadsheet: use CSV (UTF-8) or XLSX")]
    NotASpreadsheet,
    #[error("row {row} is not UTF-8 text: save the file as \"CSV UTF-8\"")]
    NotUtf8 { row: usize },
    #[error("the spreadsheet cannot be read: {0}")]
    BadWorkbook(String),
    #[error("row {row} cannot be read as CSV: {message}")]
    BadCsv { row: usize, message: String },
    #[error("row {row} has {found} cells but the header has {expected}")]
    Ragged { row: usize, expected: usize, found: usize },
    #[error("row {row}, column {column}: the cell holds the error {value}")]
    CellError { row: usize, column: String, value: String },
    #[error("column {column} has data but no header")]
    EmptyHeader { column: usize },
    #[error("column {0} appears more than once")]
    DuplicateColumn(String),
    #[error("unknown columns: {}", .0.join(", "))]
    UnknownColumns(Vec<String>),
    #[error("a column is missing: {0}")]
    MissingColumn(String),
    #[error("more than {max} rows")]
    TooManyRows { max: usize },
}

impl TransferError {
    /// The translation key of the message a user reads.
    pub fn key(&self) -> &'static str {
        match self {
            TransferError::Empty => "import-empty-file",
            TransferError::NotASpreadsheet => "import-not-a-spreadsheet",
            TransferError::NotUtf8 { .. } => "import-not-utf8",
            TransferError::BadWorkbook(_) => "import-bad-workbook",
            TransferError::BadCsv { .. } => "import-bad-csv",
            TransferError::Ragged { .. } => "import-ragged-row",
            TransferError::CellError { .. } => "import-cell-error",
            TransferError::EmptyHeader { .. } => "import-empty-header",
            TransferError::DuplicateColumn(_) => "import-duplicate-column",
            TransferError::UnknownColumns(_) => "import-unknown-columns",
            TransferError::MissingColumn(_) => "import-missing-column",
            TransferError::TooManyRows { .. } => "import-too-many-rows",
        }
    }

    /// The data row the problem is on (0 = the header), where it applies.
    pub fn row(&self) -> Option<usize> {
        match self {
            TransferError::NotUtf8 { row }
            | TransferError::BadCsv { row, .. }
            | TransferError::Ragged { row, .. }
            | TransferError::CellError { row, .. } => Some(*row),
            _ => None,
        }
    }

    /// The columns concerned, as written in the file (or the field name of a missing one).
    pub fn columns(&self) -> Vec<String> {
        match self {
            TransferError::UnknownColumns(c) => c.clone(),
            TransferError::DuplicateColumn(c) | TransferError::MissingColumn(c) => vec![c.clone()],
            TransferError::CellError { column, .. } => vec![column.clone()],
            _ => Vec::new(),
        }
    }
}

/// Reads a table from an uploaded file: XLSX (or XLS/ODS) by signature, CSV otherwise.
/// Checks that every header names a known column; which columns a kind of record accepts
/// is checked by [`check_columns`] (and again by [`import`]).
pub fn read_table(bytes: &[u8]) -> Result<Table, TransferError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(TransferError::Empty);
    }
    let (headers, rows) = if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        read_workbook(bytes)?
    } else {
        if looks_binary(bytes) {
            return Err(TransferError::NotASpreadsheet);
        }
        read_csv(bytes)?
    };
    finish_table(headers, rows)
}

/// Files that are certainly not CSV: known signatures of images, PDFs and archives, NUL
/// bytes, or markup (an HTML page saved with an `.xls` name).
fn looks_binary(bytes: &[u8]) -> bool {
    const SIGNATURES: &[&[u8]] =
        &[b"%PDF", b"\x89PNG", b"GIF8", b"\xFF\xD8\xFF", b"PK", b"\x1F\x8B", b"Rar!", b"7z\xBC\xAF", b"BM", b"II*\0", b"MM\0*", b"{\\rtf"];
    let head = &bytes[..bytes.len().min(8192)];
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if SIGNATURES.iter().any(|s| body.starts_with(s)) || head.contains(&0) {
        return true;
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    first == Some(&b'<')
}

fn read_workbook(bytes: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>), TransferError> {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|_| TransferError::NotASpreadsheet)?;
    let range = match wb.worksheet_range_at(0) {
        None => return Err(TransferError::Empty),
        Some(r) => r.map_err(|e| TransferError::BadWorkbook(e.to_string()))?,
    };
    let mut it = range.rows();
    let Some(first) = it.next() else { return Err(TransferError::Empty) };
    let mut headers = Vec::with_capacity(first.len());
    for (c, cell) in first.iter().enumerate() {
        headers.push(cell_text(cell).map_err(|value| TransferError::CellError { row: 0, column: column_letter(c), value })?);
    }
    let mut rows = Vec::with_capacity(range.height().saturating_sub(1));
    for (i, r) in it.enumerate() {
        if i >= MAX_ROWS {
            return Err(TransferError::TooManyRows { max: MAX_ROWS });
        }
        let mut out = Vec::with_capacity(r.len());
        for (c, cell) in r.iter().enumerate() {
            let column = headers.get(c).filter(|h| !h.is_empty()).cloned().unwrap_or_else(|| column_letter(c));
            out.push(cell_text(cell).map_err(|value| TransferError::CellError { row: i + 1, column, value })?);
        }
        rows.push(out);
    }
    Ok((headers, rows))
}

/// A column's letters as a spreadsheet shows them (0 → A, 27 → AB).
fn column_letter(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// A cell as text: integers without ".0", dates as ISO 8601; an error cell is an error.
fn cell_text(cell: &calamine::Data) -> Result<String, String> {
    use calamine::Data;
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) if d.is_duration() => number_text(d.as_f64()),
        Data::DateTime(d) => {
            let (y, mo, da, h, mi, s, ms) = d.to_ymd_hms_milli();
            if (h, mi, s, ms) == (0, 0, 0, 0) {
                format!("{y:04}-{mo:02}-{da:02}")
            } else {
                format!("{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{s:02}")
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Err(e.to_string()),
    })
}

/// A spreadsheet number as a person would type it: `1234`, `1234.5`, never `1234.0`.
fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn read_csv(bytes: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>), TransferError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        // UTF-16 ("Unicode text" in Excel).
        return Err(TransferError::NotUtf8 { row: 0 });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(sniff_delimiter(bytes)).from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut index = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(TransferError::BadCsv { row: index, message: e.to_string() }),
        }
        let mut cells = Vec::with_capacity(record.len());
        for field in record.iter() {
            let text = std::str::from_utf8(field).map_err(|_| TransferError::NotUtf8 { row: index })?;
            cells.push(text.trim().to_string());
        }
        if headers.is_none() {
            headers = Some(cells);
        } else {
            if rows.len() >= MAX_ROWS {
                return Err(TransferError::TooManyRows { max: MAX_ROWS });
            }
            rows.push(cells);
        }
        index += 1;
    }
    Ok((headers.ok_or(TransferError::Empty)?, rows))
}

/// The separator of the header line: the most frequent of `;`, `,` and tab outside quotes
/// (`,` when there is none: a single column).
fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in bytes {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b';' if !quoted => counts[0] += 1,
            b',' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b';', b',', b'\t'];
    let best = (0..3).max_by_key(|&i| (counts[i], i == 1)).unwrap_or(1);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

/// Common checks: trailing empty columns dropped, every row as long as the header,
/// headers known and not repeated.
fn finish_table(mut headers: Vec<String>, mut rows: Vec<Vec<String>>) -> Result<Table, TransferError> {
    for h in &mut headers {
        *h = h.trim_start_matches('\u{feff}').trim().to_string();
    }
    let width = headers.iter().rposition(|h| !h.is_empty()).map_or(0, |i| i + 1);
    if width == 0 {
        return Err(TransferError::Empty);
    }
    // Empty spacer columns (no header, no data) are dropped; with data they are an error.
    let mut keep = vec![true; width];
    for (c, h) in headers.iter().enumerate().take(width) {
        if h.is_empty() {
            if rows.iter().any(|r| r.get(c).is_some_and(|v| !v.is_empty())) {
                return Err(TransferError::EmptyHeader { column: c + 1 });
            }
            keep[c] = false;
        }
    }
    for (i, r) in rows.iter_mut().enumerate() {
        if r.iter().all(String::is_empty) {
            r.clear();
            r.resize(width, String::new());
            continue;
        }
        let extra = r.get(width..).is_some_and(|rest| rest.iter().any(|v| !v.is_empty()));
        if r.len() < width || extra {
            return Err(TransferError::Ragged { row: i + 1, expected: width, found: r.len() });
        }
        r.truncate(width);
    }
    if keep.contains(&false) {
        let pick = |v: Vec<String>| -> Vec<String> { v.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(x, _)| x).collect() };
        headers.truncate(width);
        rows = rows.into_iter().map(pick).collect();
        headers = pick(headers);
    } else {
        headers.truncate(width);
    }
    let mut unknown = Vec::new();
    let mut seen = HashSet::new();
    for h in &headers {
        match Field::of_header(h) {
            None => unknown.push(h.clone()),
            Some(f) if !seen.insert(f) => return Err(TransferError::DuplicateColumn(h.clone())),
            Some(_) => {}
        }
    }
    if !unknown.is_empty() {
        return Err(TransferError::UnknownColumns(unknown));
    }
    Ok(Table { headers, rows })
}

// ---------------------------------------------------------------- columns

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Code,
    Name,
    TradeName,
    TaxScheme,
    TaxId,
    Email,
    Phone,
    Mobile,
    Website,
    Street,
    City,
    Region,
    PostalCode,
    Country,
    PaymentTermsDays,
    CreditLimit,
    Notes,
    Tags,
    Barcode,
    Description,
    Kind,
    Unit,
    SalePrice,
    Cost,
    TaxRate,
    Category,
}

const FIELD_COUNT: usize = 26;

impl Field {
    const ALL: [Field; FIELD_COUNT] = [
        Field::Code,
        Field::Name,
        Field::TradeName,
        Field::TaxScheme,
        Field::TaxId,
        Field::Email,
        Field::Phone,
        Field::Mobile,
        Field::Website,
        Field::Street,
        Field::City,
        Field::Region,
        Field::PostalCode,
        Field::Country,
        Field::PaymentTermsDays,
        Field::CreditLimit,
        Field::Notes,
        Field::Tags,
        Field::Barcode,
        Field::Description,
        Field::Kind,
        Field::Unit,
        Field::SalePrice,
        Field::Cost,
        Field::TaxRate,
        Field::Category,
    ];

    /// The field name used in row errors (the use cases' names, `tax_rate` for the rate).
    fn name(self) -> &'static str {
        match self {
            Field::Code => "code",
            Field::Name => "name",
            Field::TradeName => "trade_name",
            Field::TaxScheme => "tax_scheme",
            Field::TaxId => "tax_id",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Mobile => "mobile",
            Field::Website => "website",
            Field::Street => "street",
            Field::City => "city",
            Field::Region => "region",
            Field::PostalCode => "postal_code",
            Field::Country => "country",
            Field::PaymentTermsDays => "payment_terms_days",
            Field::CreditLimit => "credit_limit",
            Field::Notes => "notes",
            Field::Tags => "tags",
            Field::Barcode => "barcode",
            Field::Description => "description",
            Field::Kind => "kind",
            Field::Unit => "unit",
            Field::SalePrice => "sale_price",
            Field::Cost => "cost",
            Field::TaxRate => "tax_rate",
            Field::Category => "category",
        }
    }

    /// Other names a header may have, already normalised (see [`norm_header`]).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Code => &["codigo", "cod", "sku", "codigo cliente", "codigo proveedor", "codigo articulo", "codigo producto"],
            Field::Name => &["nombre", "razon social", "nombre o razon social", "denominacion"],
            Field::TradeName => &["nombre de fantasia", "nombre fantasia", "fantasia"],
            Field::TaxScheme => &["esquema fiscal", "tipo de id fiscal", "tipo id fiscal"],
            Field::TaxId => &[
                "taxid",
                "cuit",
                "cuil",
                "cuit cuil",
                "nif",
                "cif",
                "rut",
                "nit",
                "rfc",
                "id fiscal",
                "identificacion fiscal",
                "numero fiscal",
            ],
            Field::Email => &["e mail", "correo", "correo electronico", "mail"],
            Field::Phone => &["telefono", "tel", "telefono fijo"],
            Field::Mobile => &["celular", "movil", "telefono movil", "telefono celular"],
            Field::Website => &["web", "sitio web", "pagina web", "url"],
            Field::Street => &["address", "direccion", "domicilio", "calle"],
            Field::City => &["ciudad", "localidad"],
            Field::Region => &["provincia", "estado", "departamento", "state", "province"],
            Field::PostalCode => &["zip", "zip code", "codigo postal", "cp"],
            Field::Country => &["pais"],
            Field::PaymentTermsDays => &["payment terms", "dias de pago", "plazo", "plazo de pago", "dias de plazo", "plazo dias"],
            Field::CreditLimit => &["limite de credito", "limite credito"],
            Field::Notes => &["notas", "observaciones", "comentarios"],
            Field::Tags => &["etiquetas"],
            Field::Barcode => &["codigo de barras", "ean", "gtin"],
            Field::Description => &["descripcion", "detalle"],
            Field::Kind => &["type", "tipo"],
            Field::Unit => &["unidad", "unidad de medida", "um"],
            Field::SalePrice => &["price", "precio", "precio venta", "precio de venta"],
            Field::Cost => &["costo", "coste", "precio de costo", "precio costo"],
            Field::TaxRate => &["tax rate id", "tax", "iva", "tasa", "tasa iva", "alicuota", "alicuota iva", "impuesto"],
            Field::Category => &["categoria", "rubro", "familia"],
        }
    }

    fn of_header(header: &str) -> Option<Field> {
        let n = norm_header(header);
        Field::ALL.into_iter().find(|f| norm_header(f.name()) == n || f.aliases().contains(&n.as_str()))
    }

    fn for_parties(self) -> bool {
        !matches!(
            self,
            Field::Barcode
                | Field::Description
                | Field::Kind
                | Field::Unit
                | Field::SalePrice
                | Field::Cost
                | Field::TaxRate
                | Field::Category
        )
    }

    fn for_products(self) -> bool {
        matches!(
            self,
            Field::Code
                | Field::Name
                | Field::Barcode
                | Field::Description
                | Field::Kind
                | Field::Unit
                | Field::SalePrice
                | Field::Cost
                | Field::TaxRate
                | Field::Category
        )
    }
}

/// A header as compared: folded (case and accents), punctuation as spaces, collapsed.
fn norm_header(s: &str) -> String {
    let folded: String = fold(s).chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where each field is in a table's rows.
struct Columns([Option<usize>; FIELD_COUNT]);

impl Columns {
    fn has(&self, f: Field) -> bool {
        self.0[f as usize].is_some()
    }

    /// The cell of `f` in a row: `None` when the file has no such column, `Some("")` for
    /// an empty cell. A leading `'` that protected a formula-like value is removed.
    fn get<'a>(&self, row: &'a [String], f: Field) -> Option<&'a str> {
        let i = self.0[f as usize]?;
        let v = row.get(i).map_or("", |s| s.trim());
        Some(match v.strip_prefix('\'') {
            Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
            _ => v,
        })
    }

    fn owned(&self, row: &[String], f: Field) -> Option<String> {
        self.get(row, f).map(str::to_string)
    }
}

/// What kind of records a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Customers,
    Suppliers,
    Products,
}

impl ImportKind {
    fn role(self) -> Option<PartyRole> {
        match self {
            ImportKind::Customers => Some(PartyRole::Customer),
            ImportKind::Suppliers => Some(PartyRole::Supplier),
            ImportKind::Products => None,
        }
    }

    pub fn resource(self) -> Resource {
        match self {
            ImportKind::Customers => Resource::Customers,
            ImportKind::Suppliers => Resource::Suppliers,
            ImportKind::Products => Resource::Products,
        }
    }
}

/// Checks a table's columns for a kind of record: each must belong to it (a price column
/// in a customers file is an error), and the key columns must be there: articles need
/// the code; parties need the name, or a tax id or code column to update existing ones.
pub fn check_columns(kind: ImportKind, table: &Table) -> Result<(), TransferError> {
    resolve_columns(kind, table).map(|_| ())
}

fn resolve_columns(kind: ImportKind, table: &Table) -> Result<Columns, TransferError> {
    let mut idx = [None; FIELD_COUNT];
    let mut unknown = Vec::new();
    for (i, h) in table.headers.iter().enumerate() {
        let Some(f) = Field::of_header(h) else {
            unknown.push(h.clone());
            continue;
        };
        let fits = if kind == ImportKind::Products { f.for_products() } else { f.for_parties() };
        if !fits {
            unknown.push(h.clone());
        } else if idx[f as usize].replace(i).is_some() {
            return Err(TransferError::DuplicateColumn(h.clone()));
        }
    }
    if !unknown.is_empty() {
        return Err(TransferError::UnknownColumns(unknown));
    }
    let cols = Columns(idx);
    match kind {
        ImportKind::Products if !cols.has(Field::Code) => Err(TransferError::MissingColumn("code".into())),
        ImportKind::Customers | ImportKind::Suppliers if ![Field::Name, Field::TaxId, Field::Code].iter().any(|f| cols.has(*f)) => {
            Err(TransferError::MissingColumn("name".into()))
        }
        _ => Ok(cols),
    }
}

/// A file problem as the use cases report problems: one entry per column concerned
/// (`{"Color": "import-unknown-column"}`), or the whole file (`{"file": key}`).
fn file_error(e: TransferError) -> AppError {
    let mut f = FieldErrors::new();
    match &e {
        TransferError::UnknownColumns(cols) => cols.iter().for_each(|c| f.add(c, "import-unknown-column")),
        TransferError::MissingColumn(c) => f.add(c, "import-missing-column"),
        TransferError::DuplicateColumn(c) => f.add(c, "import-duplicate-column"),
        other => f.add("file", other.key()),
    }
    AppError::Invalid(f)
}

// ---------------------------------------------------------------- importing

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// Check everything, store nothing.
    pub dry_run: bool,
    /// Keep the good rows when some are bad (otherwise one bad row cancels the import).
    pub skip_bad_rows: bool,
}

/// One problem in one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Data row from 1 (the header excluded): the spreadsheet line is `row + 1`. For
    /// vCards, the card's position in the file from 1.
    pub row: usize,
    /// The field (`tax_id`, `sale_price`…), or `None` for the row as a whole.
    pub field: Option<String>,
    /// Translation key, e.g. `taxid-bad-check-digit`.
    pub key: String,
}

/// What an import did (or, when `applied` is false, would have done).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Non-blank data rows looked at.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    /// Rows that matched a record and would change nothing: nothing was written.
    pub unchanged: usize,
    /// Bad rows left out because `skip_bad_rows` was asked for.
    pub skipped: usize,
    pub errors: Vec<RowError>,
    /// Whether the changes were stored (false on a dry run and when a bad row cancelled).
    pub applied: bool,
}

enum Outcome {
    Created(String),
    Updated(String),
    Unchanged(String),
}

/// What a row's problems are while it is being built.
type Problems = Vec<(Option<String>, String)>;

fn store_err(e: sqlx::Error) -> AppError {
    AppError::from(StoreError::from(e))
}

/// At most this many rows go in one chunk; fewer when the database's limit on bound values
/// allows fewer new records in one INSERT. One INSERT per chunk also means one batch for
/// the search index (SQLite's FTS5 writes out what a statement added when the next one
/// starts), and larger batches cost it less.
const MAX_CHUNK: usize = 2000;

/// What every row of an import needs.
struct Ctx<'a> {
    actor: &'a Actor,
    /// `None` for articles.
    role: Option<PartyRole>,
    company: Company,
    rates: Vec<TaxRateRow>,
    cols: Columns,
    skip_bad_rows: bool,
    total: usize,
    progress: &'a (dyn Fn(usize, usize) + Sync),
}

/// A non-blank data row: its number (from 1) and its cells.
type Cells<'t> = (usize, &'t [String]);

/// A row of a file, read: what it says, the problems found reading it, and its keys.
struct Line<I> {
    input: I,
    problems: Problems,
    /// The row's value, as stored, in each of its kind's unique columns ([`Kind::UNIQUE`]).
    keys: [Option<String>; 2],
    /// The field the row is matched by (named by `import-duplicate-row`); `None` for a
    /// party with neither tax id nor code, which is matched by its name.
    key_field: Option<&'static str>,
}

/// What one row came to: what it did, or its problems (then it changed nothing).
enum RowEnd {
    Done(Outcome),
    Bad(Problems),
}

/// The report so far and the records the rows have named (a second row naming one is an
/// `import-duplicate-row`).
#[derive(Default)]
struct Tally {
    report: ImportReport,
    touched: HashSet<String>,
    failed: bool,
    /// The records named by the rows of the current chunk (undone if the chunk is redone).
    touched_in_chunk: Vec<String>,
    /// The last row index `progress` was called with.
    reported: usize,
}

impl Tally {
    /// Calls `progress` for every [`PROGRESS_EVERY`] rows up to the row of index `i` (from
    /// 0), once each: before that row is imported, as a row-by-row loop would.
    fn progress(&mut self, ctx: &Ctx<'_>, i: usize) {
        while self.reported + PROGRESS_EVERY <= i {
            self.reported += PROGRESS_EVERY;
            (ctx.progress)(self.reported, ctx.total);
        }
    }

    /// Counts a row; true when the import must stop (too many errors to go on).
    fn add(&mut self, skip_bad_rows: bool, row: usize, end: RowEnd) -> bool {
        self.report.rows += 1;
        let id = match end {
            RowEnd::Done(Outcome::Created(id)) => {
                self.report.created += 1;
                id
            }
            RowEnd::Done(Outcome::Updated(id)) => {
                self.report.updated += 1;
                id
            }
            RowEnd::Done(Outcome::Unchanged(id)) => {
                self.report.unchanged += 1;
                id
            }
            RowEnd::Bad(mut problems) => {
                if skip_bad_rows {
                    self.report.skipped += 1;
                } else {
                    self.failed = true;
                }
                problems.sort();
                for (field, key) in problems {
                    if self.report.errors.len() < MAX_ERRORS {
                        self.report.errors.push(RowError { row, field, key });
                    }
                }
                if !skip_bad_rows && self.report.errors.len() >= MAX_ERRORS {
                    self.report.errors.push(RowError { row, field: None, key: "import-too-many-errors".into() });
                    return true;
                }
                return false;
            }
        };
        self.touched.insert(id.clone());
        self.touched_in_chunk.push(id);
        false
    }
}

/// Why the bulk path of a chunk stopped: the database refused its bulk writes (the chunk
/// is then imported again row by row), or the import fails.
enum Halt {
    Redo,
    Fail(AppError),
}

impl From<AppError> for Halt {
    fn from(e: AppError) -> Self {
        Halt::Fail(e)
    }
}

impl From<StoreError> for Halt {
    fn from(e: StoreError) -> Self {
        Halt::Fail(e.into())
    }
}

/// What the bulk path needs of a kind of record: parties (in a role) or articles.
trait Kind {
    type Input;
    type Row: rows::Record + Clone;
    /// The record as the use cases show it (and the audit trail records it).
    type Shown: Serialize;
    /// The entity in the audit trail.
    const ENTITY: &'static str;
    /// Unique columns. The first [`Kind::FINDING`] name the record a row is matched by,
    /// looked for in that order; a new record needs all of them free.
    const UNIQUE: [&'static str; 2];
    const FINDING: usize;
    fn read(&self, ctx: &Ctx<'_>, cells: &[String]) -> Line<Self::Input>;
    fn shown(row: Self::Row, decimals: u32) -> Self::Shown;
    /// A record's values in the unique columns.
    fn unique(row: &Self::Row) -> [Option<&str>; 2];
    /// What the row does to the record `old` its key found.
    fn plan(&self, ctx: &Ctx<'_>, line: &mut Line<Self::Input>, old: &Self::Shown, touched: &HashSet<String>) -> AppResult<Plan<()>>;
    /// The record the row creates, checked as the use case checks it.
    fn create(&self, ctx: &Ctx<'_>, line: &Line<Self::Input>) -> AppResult<Self::Row>;
}

/// A row of a chunk, read, with the record it would create when that was worked out ahead.
struct Prep<'t, K: Kind> {
    row: usize,
    cells: &'t [String],
    line: Line<K::Input>,
    new: Option<AppResult<(K::Row, audit::Change)>>,
}

/// Reads the rows of a chunk; `ahead`: also works out the record each would create (done
/// while the database writes the chunk before, when most rows are new ones).
fn prepare<'t, K: Kind>(kind: &K, ctx: &Ctx<'_>, cells: &[Cells<'t>], ahead: bool) -> Vec<Prep<'t, K>> {
    cells
        .iter()
        .map(|&(row, cells)| {
            let line = kind.read(ctx, cells);
            let new = (ahead && line.key_field.is_some()).then(|| new_record(kind, ctx, &line));
            Prep { row, cells, line, new }
        })
        .collect()
}

/// The record a row creates and its audit entry, as the use case writes them.
fn new_record<K: Kind>(kind: &K, ctx: &Ctx<'_>, line: &Line<K::Input>) -> AppResult<(K::Row, audit::Change)> {
    let row = kind.create(ctx, line)?;
    let shown = K::shown(row.clone(), ctx.company.decimals());
    let change = audit::Change::new("create", K::ENTITY, row.id(), None::<&K::Shown>, Some(&shown))?;
    Ok((row, change))
}

/// Work to do while the database writes: reading the next chunk.
struct ReadAhead<F, R> {
    work: Option<F>,
    done: Option<R>,
}

impl<F: FnOnce(bool) -> R, R> ReadAhead<F, R> {
    /// Awaits `fut`, doing `first` and then the work (the first time) meanwhile. `fut` is
    /// polled first, so that its statements are on their way (to SQLite's worker thread or
    /// the PostgreSQL server) before the work takes this thread.
    async fn during<T>(&mut self, fut: impl Future<Output = T>, first: impl FnOnce(), arg: bool) -> T {
        let mut fut = std::pin::pin!(fut);
        let polled = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
        first();
        if let Some(work) = self.work.take() {
            self.done = Some(work(arg));
        }
        match polled {
            Poll::Ready(out) => out,
            Poll::Pending => fut.await,
        }
    }
}

/// New records of a chunk and their audit entries, written together.
struct Pending<T> {
    rows: Vec<T>,
    changes: Vec<audit::Change>,
}

impl<T: rows::Record> Pending<T> {
    /// Writes what is pending, reading ahead meanwhile. A refusal (a value some other
    /// record has, which the checks before could not see) means the chunk is redone row by
    /// row.
    async fn flush<F: FnOnce(bool) -> R, R>(
        &mut self,
        conn: &mut Conn,
        actor: &Actor,
        ahead: &mut ReadAhead<F, R>,
        arg: bool,
    ) -> Result<(), Halt> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let head = store::audit::next_seq(conn).await.map_err(|_| Halt::Redo)?;
        let (new, changes) = (std::mem::take(&mut self.rows), std::mem::take(&mut self.changes));
        // The audit entries are chained while the records are written.
        let (chained, entries) = tokio::sync::oneshot::channel::<Vec<store::audit::AuditRow>>();
        let write = async {
            rows::insert_many(conn, &new).await?;
            let entries = entries.await.map_err(|e| StoreError::Other(e.to_string()))?;
            store::audit::append_many(conn, &entries).await
        };
        let chain = || {
            let _ = chained.send(audit::entries(actor, head, changes));
        };
        ahead.during(write, chain, arg).await.map_err(|_| Halt::Redo)
    }
}

/// Imports a table of customers, suppliers or articles in one transaction (see the module
/// documentation for the rules). `progress(done, total)` is called every
/// [`PROGRESS_EVERY`] rows and at the end. A permission refused on any row aborts the
/// whole import with `Forbidden`; a file whose columns do not fit the kind is `Invalid`
/// with one entry per column.
///
/// Rows go by chunks (see [`import_chunk`]): the report, the records and the audit trail
/// are those of importing the rows one after another, only written with far fewer
/// statements.
pub async fn import(
    app: &App,
    actor: &Actor,
    kind: ImportKind,
    table: &Table,
    opts: &ImportOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> AppResult<ImportReport> {
    // Creating or updating is checked row by row; one of them is needed to start.
    if !actor.can(Action::Create, kind.resource()) && !actor.can(Action::Update, kind.resource()) {
        return Err(AppError::Forbidden);
    }
    let cols = resolve_columns(kind, table).map_err(file_error)?;
    let total = table.rows.len();
    let mut tx = app.db.begin().await?;
    let company = master::company_tx(&mut tx).await?;
    let rates = if cols.has(Field::TaxRate) { rows::list_tax_rates(&mut tx, false).await? } else { Vec::new() };
    let ctx = Ctx { actor, role: kind.role(), company, rates, cols, skip_bad_rows: opts.skip_bad_rows, total, progress };
    let mut tally = Tally::default();
    match kind.role() {
        Some(role) => import_chunks(&mut tx, &ctx, &Parties(role), table, &mut tally).await?,
        None => import_chunks(&mut tx, &ctx, &Products, table, &mut tally).await?,
    }
    progress(total, total);
    let mut report = tally.report;
    report.applied = !opts.dry_run && !tally.failed;
    if report.applied {
        tx.commit().await.map_err(store_err)?;
        if total >= REFRESH_STATISTICS_AFTER {
            // Many new rows: let the query planner see them (on PostgreSQL, until ANALYZE
            // runs it plans the customer list as if the table were still small).
            let table_name = if kind.role().is_some() { "parties" } else { "products" };
            if let Err(e) = app.db.refresh_statistics(table_name).await {
                tracing::warn!(error = %e, "could not refresh the planner's statistics after an import");
            }
        }
    } else {
        tx.rollback().await.map_err(store_err)?;
    }
    Ok(report)
}

/// Imports of at least this many rows refresh the query planner's statistics.
const REFRESH_STATISTICS_AFTER: usize = 1_000;

/// The table chunk by chunk; each chunk is read while the one before is written.
async fn import_chunks<K: Kind>(conn: &mut Conn, ctx: &Ctx<'_>, kind: &K, table: &Table, tally: &mut Tally) -> AppResult<()> {
    let per = rows::rows_per_insert::<K::Row>(conn).min(MAX_CHUNK);
    let chunk = |c: usize| -> Vec<Cells> {
        let first = c * per;
        let rows = table.rows.get(first..(first + per).min(table.rows.len())).unwrap_or_default();
        rows.iter()
            .enumerate()
            .map(|(j, cells)| (first + j + 1, cells.as_slice()))
            .filter(|(_, cells)| !cells.iter().all(|c| c.trim().is_empty()))
            .collect()
    };
    let chunks = table.rows.len().div_ceil(per);
    let (mut cells, mut read) = (chunk(0), None);
    for c in 0..chunks {
        let next = chunk(c + 1);
        let preps = read.take().unwrap_or_else(|| prepare(kind, ctx, &cells, false));
        let last = ((c + 1) * per).min(table.rows.len()) - 1;
        let mut ahead = ReadAhead { work: (c + 1 < chunks).then_some(|new: bool| prepare(kind, ctx, &next, new)), done: None };
        if import_chunk(conn, ctx, kind, Chunk { cells: &cells, preps, last }, tally, &mut ahead).await? {
            break;
        }
        read = ahead.done.take();
        drop(ahead);
        cells = next;
    }
    Ok(())
}

/// The rows of a chunk: their cells, the same rows read, and the index (from 0) of the
/// chunk's last row in the table (blank or not).
struct Chunk<'c, 't, K: Kind> {
    cells: &'c [Cells<'t>],
    preps: Vec<Prep<'t, K>>,
    last: usize,
}

/// Imports a chunk of rows inside a savepoint. Rows that create a record are checked in
/// memory (the records the chunk's keys name are read at once) and written together; the
/// others (changes, rows matched by name, rows naming a record this import wrote) go one
/// by one through [`import_row`], after what is pending has been written, so that each row
/// sees the rows before it as it would alone. If the database refuses the bulk writes,
/// the chunk is undone and imported again row by row, which names the row and its problem
/// exactly. Returns whether to stop (too many errors).
async fn import_chunk<'t, K: Kind, F: FnOnce(bool) -> R, R>(
    conn: &mut Conn,
    ctx: &Ctx<'_>,
    kind: &K,
    chunk: Chunk<'_, 't, K>,
    tally: &mut Tally,
    ahead: &mut ReadAhead<F, R>,
) -> AppResult<bool> {
    let Chunk { cells, preps, last } = chunk;
    let (report, failed) = (tally.report.clone(), tally.failed);
    tally.touched_in_chunk.clear();
    let mut sp = sqlx::Connection::begin(&mut *conn).await.map_err(store_err)?;
    match in_bulk(&mut sp, ctx, kind, preps, last, tally, ahead).await {
        Ok(stop) => {
            sp.commit().await.map_err(store_err)?;
            Ok(stop)
        }
        Err(Halt::Fail(e)) => Err(e),
        Err(Halt::Redo) => {
            sp.rollback().await.map_err(store_err)?;
            (tally.report, tally.failed) = (report, failed);
            for id in tally.touched_in_chunk.drain(..) {
                tally.touched.remove(&id);
            }
            for &(row, cells) in cells {
                tally.progress(ctx, row - 1);
                let end = import_row(conn, ctx, cells, &tally.touched).await?;
                if tally.add(ctx.skip_bad_rows, row, end) {
                    return Ok(true);
                }
            }
            tally.progress(ctx, last);
            Ok(false)
        }
    }
}

/// The bulk path of a chunk (see [`import_chunk`]).
async fn in_bulk<K: Kind, F: FnOnce(bool) -> R, R>(
    conn: &mut Conn,
    ctx: &Ctx<'_>,
    kind: &K,
    preps: Vec<Prep<'_, K>>,
    last: usize,
    tally: &mut Tally,
    ahead: &mut ReadAhead<F, R>,
) -> Result<bool, Halt> {
    let d = ctx.company.decimals();
    // The records the chunk's keys name, and which value of a unique column is whose.
    let mut claims: [HashMap<String, String>; 2] = Default::default();
    let mut known = HashMap::new();
    for (i, column) in K::UNIQUE.into_iter().enumerate() {
        let values: Vec<String> = preps.iter().filter_map(|p| p.line.keys[i].clone()).collect();
        if values.is_empty() {
            continue;
        }
        for r in rows::find_many::<K::Row>(conn, column, &values).await? {
            for (claim, value) in claims.iter_mut().zip(K::unique(&r)) {
                claim.extend(value.map(|v| (v.to_string(), r.id().to_string())));
            }
            known.insert(r.id().to_string(), K::shown(r, d));
        }
    }
    let (n, mut created, mut stop) = (preps.len(), 0, false);
    let mut pending = Pending { rows: Vec::new(), changes: Vec::new() };
    for mut p in preps {
        tally.progress(ctx, p.row - 1);
        let hit = (0..K::FINDING).find_map(|i| p.line.keys[i].as_ref().and_then(|k| claims[i].get(k)));
        // `None`: the row goes on its own.
        let end = match (p.line.key_field, hit) {
            (None, _) => None,
            // A record this import wrote is looked up again, in the database.
            (Some(_), Some(id)) => match known.get(id).filter(|_| !tally.touched.contains(id)) {
                None => None,
                Some(old) => match kind.plan(ctx, &mut p.line, old, &tally.touched) {
                    Ok(Plan::Unchanged(id)) => Some(settle(Ok(Outcome::Unchanged(id)), p.line.problems)?),
                    Ok(Plan::Update(())) => None,
                    Err(e) => Some(settle(Err(e), p.line.problems)?),
                },
            },
            (Some(_), None) => match p.new.take().unwrap_or_else(|| new_record(kind, ctx, &p.line)) {
                // A value another record has (a barcode): its insert names the problem.
                Ok((new, _)) if claims.iter().zip(K::unique(&new)).any(|(c, v)| v.is_some_and(|v| c.contains_key(v))) => None,
                Ok((new, change)) if p.line.problems.is_empty() => {
                    let id = new.id().to_string();
                    for (claim, value) in claims.iter_mut().zip(K::unique(&new)) {
                        claim.extend(value.map(|v| (v.to_string(), id.clone())));
                    }
                    pending.rows.push(new);
                    pending.changes.push(change);
                    created += 1;
                    Some(RowEnd::Done(Outcome::Created(id)))
                }
                other => Some(settle(other.map(|(new, _)| Outcome::Created(new.id().to_string())), p.line.problems)?),
            },
        };
        let end = match end {
            Some(end) => end,
            None => {
                pending.flush(conn, ctx.actor, ahead, created * 2 >= n).await?;
                import_row(conn, ctx, p.cells, &tally.touched).await?
            }
        };
        if tally.add(ctx.skip_bad_rows, p.row, end) {
            stop = true;
            break;
        }
    }
    if !stop {
        tally.progress(ctx, last);
    }
    pending.flush(conn, ctx.actor, ahead, created * 2 >= n).await?;
    Ok(stop)
}

/// One row on its own, in its own savepoint: looked up, checked and written.
async fn import_row(conn: &mut Conn, ctx: &Ctx<'_>, cells: &[String], touched: &HashSet<String>) -> AppResult<RowEnd> {
    let mut sp = sqlx::Connection::begin(&mut *conn).await.map_err(store_err)?;
    let (result, problems) = match ctx.role {
        Some(role) => {
            let mut line = party_line(ctx, cells);
            (party_row(&mut sp, ctx, role, &mut line, touched).await, line.problems)
        }
        None => {
            let mut line = product_line(ctx, cells);
            (product_row(&mut sp, ctx, &mut line, touched).await, line.problems)
        }
    };
    let end = settle(result, problems);
    if matches!(end, Ok(RowEnd::Done(_))) {
        sp.commit().await.map_err(store_err)?;
    } else {
        sp.rollback().await.map_err(store_err)?;
    }
    end
}

/// A row's end from what writing it gave and the problems found reading it: a refusal
/// (invalid fields, a conflict, a record gone) is the row's problem; any other error
/// (a permission, the database) stops the import.
fn settle(result: AppResult<Outcome>, mut problems: Problems) -> AppResult<RowEnd> {
    match result {
        Ok(o) if problems.is_empty() => return Ok(RowEnd::Done(o)),
        Ok(_) => {}
        Err(AppError::Invalid(fields)) => {
            for (field, key) in fields.0 {
                let field = if field == "tax_rate_id" { "tax_rate".to_string() } else { field };
                if !problems.iter().any(|(f, _)| f.as_deref() == Some(field.as_str())) {
                    problems.push((Some(field), key));
                }
            }
        }
        Err(AppError::Conflict) => problems.push((None, "record-conflict".into())),
        Err(AppError::NotFound) => problems.push((None, "record-not-found".into())),
        Err(other) => return Err(other),
    }
    Ok(RowEnd::Bad(problems))
}

/// What a row does to the record its key found.
enum Plan<U> {
    Unchanged(String),
    /// A change, written by the use case (for parties, in the role it goes through).
    Update(U),
}

/// Tax id scheme as written in a file: a code (`ar_cuit`) or the usual name (`CUIT`).
fn scheme_code(raw: &str) -> Option<String> {
    let f = norm_header(raw);
    let code = match f.as_str() {
        "" => return None,
        "cuit" | "cuil" => "ar_cuit",
        "nit" => "co_nit",
        "rut" | "run" => "cl_rut",
        "rfc" => "mx_rfc",
        "nif" | "cif" | "nie" => "es_nif",
        "otro" | "otra" => "other",
        _ => return Some(raw.trim().to_lowercase()),
    };
    Some(code.to_string())
}

/// Amounts as people paste them: `$ 1234,50` → `1234,50` (the domain refuses grouping).
fn amount(raw: Option<&str>) -> Option<String> {
    raw.map(|s| s.chars().filter(|c| *c != '$' && !c.is_whitespace()).collect())
}

fn party_in(cols: &Columns, row: &[String], problems: &mut Problems) -> PartyIn {
    let payment_terms_days = cols.get(row, Field::PaymentTermsDays).and_then(|s| {
        if s.is_empty() {
            return Some(0);
        }
        match s.parse::<i64>() {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push((Some("payment_terms_days".into()), "payment-terms-invalid".into()));
                None
            }
        }
    });
    PartyIn {
        code: cols.owned(row, Field::Code),
        name: cols.owned(row, Field::Name),
        trade_name: cols.owned(row, Field::TradeName),
        tax_scheme: cols.get(row, Field::TaxScheme).and_then(scheme_code),
        tax_id: cols.owned(row, Field::TaxId),
        email: cols.owned(row, Field::Email),
        phone: cols.owned(row, Field::Phone),
        mobile: cols.owned(row, Field::Mobile),
        website: cols.owned(row, Field::Website),
        street: cols.owned(row, Field::Street),
        city: cols.owned(row, Field::City),
        region: cols.owned(row, Field::Region),
        postal_code: cols.owned(row, Field::PostalCode),
        country: cols.owned(row, Field::Country),
        payment_terms_days,
        credit_limit: amount(cols.get(row, Field::CreditLimit)),
        salesperson_id: None,
        notes: cols.owned(row, Field::Notes),
        tags: cols
            .get(row, Field::Tags)
            .map(|t| t.split(['|', ',']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()),
        is_customer: None,
        is_supplier: None,
        archived: None,
        version: None,
    }
}

/// A row of a customers or suppliers file: its keys are the tax id and the code.
type PartyLine = Line<PartyIn>;

fn party_line(ctx: &Ctx<'_>, cells: &[String]) -> PartyLine {
    let mut problems = Vec::new();
    let input = party_in(&ctx.cols, cells, &mut problems);
    let (tax_id, code) = master::party_keys(&ctx.company, input.tax_scheme.as_deref(), input.tax_id.as_deref(), input.code.as_deref());
    let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    let key_field = if given(&input.tax_id) {
        Some("tax_id")
    } else if given(&input.code) {
        Some("code")
    } else {
        None
    };
    Line { input, problems, keys: [tax_id, code], key_field }
}

/// A party row on its own: looked up in the database, then created or changed.
async fn party_row(conn: &mut Conn, ctx: &Ctx<'_>, role: PartyRole, line: &mut PartyLine, touched: &HashSet<String>) -> AppResult<Outcome> {
    let (company, input) = (&ctx.company, &line.input);
    let found = match line.key_field {
        None => find_party_by_name(conn, company, input.name.as_deref()).await?,
        Some(_) => {
            master::find_party_tx(conn, company, input.tax_scheme.as_deref(), input.tax_id.as_deref(), input.code.as_deref()).await?
        }
    };
    let Some(old) = found else {
        let p = master::create_party_tx(conn, ctx.actor, company, role, input).await?;
        return Ok(Outcome::Created(p.id));
    };
    match party_plan(company, role, line, &old, touched)? {
        Plan::Unchanged(id) => Ok(Outcome::Unchanged(id)),
        Plan::Update(via) => Ok(Outcome::Updated(master::update_party_tx(conn, ctx.actor, company, via, &old.id, &line.input).await?.id)),
    }
}

/// What a row does to the party `old` its key found: nothing, or a change through the
/// role `update_party_tx` is called with (`line.input` is made ready for it).
fn party_plan(
    company: &Company,
    role: PartyRole,
    line: &mut PartyLine,
    old: &Party,
    touched: &HashSet<String>,
) -> AppResult<Plan<PartyRole>> {
    if touched.contains(&old.id) {
        return Err(AppError::Invalid(FieldErrors::single(line.key_field.unwrap_or("name"), "import-duplicate-row")));
    }
    // Found by its code, but the row names another tax id: another party's code.
    if let (Some(t), Some(old_t)) = (line.keys[0].as_deref(), old.tax_id.as_deref()) {
        if t != old_t {
            return Err(AppError::Invalid(FieldErrors::single("code", "value-duplicate")));
        }
    }
    let input = &mut line.input;
    let has_role = match role {
        PartyRole::Customer => old.is_customer,
        PartyRole::Supplier => old.is_supplier,
    };
    if has_role && !old.archived && party_unchanged(old, input, company) {
        return Ok(Plan::Unchanged(old.id.clone()));
    }
    // A customer named in a suppliers file becomes both (and the other way round).
    let via = if has_role {
        role
    } else {
        match role {
            PartyRole::Customer => {
                input.is_customer = Some(true);
                PartyRole::Supplier
            }
            PartyRole::Supplier => {
                input.is_supplier = Some(true);
                PartyRole::Customer
            }
        }
    };
    if old.archived {
        input.archived = Some(false);
    }
    Ok(Plan::Update(via))
}

/// Customers or suppliers.
struct Parties(PartyRole);

impl Kind for Parties {
    type Input = PartyIn;
    type Row = PartyRow;
    type Shown = Party;
    const ENTITY: &'static str = "party";
    const UNIQUE: [&'static str; 2] = ["tax_id", "code"];
    const FINDING: usize = 2;

    fn read(&self, ctx: &Ctx<'_>, cells: &[String]) -> PartyLine {
        party_line(ctx, cells)
    }
    fn shown(row: PartyRow, decimals: u32) -> Party {
        master::party_of(row, decimals)
    }
    fn unique(row: &PartyRow) -> [Option<&str>; 2] {
        [row.tax_id.as_deref(), row.code.as_deref()]
    }
    fn plan(&self, ctx: &Ctx<'_>, line: &mut PartyLine, old: &Party, touched: &HashSet<String>) -> AppResult<Plan<()>> {
        Ok(match party_plan(&ctx.company, self.0, line, old, touched)? {
            Plan::Unchanged(id) => Plan::Unchanged(id),
            Plan::Update(_) => Plan::Update(()),
        })
    }
    fn create(&self, ctx: &Ctx<'_>, line: &PartyLine) -> AppResult<PartyRow> {
        // Rows name no salesperson: nothing to check in the database.
        master::new_party_row(ctx.actor, &ctx.company, self.0, &line.input, None, FieldErrors::new())
    }
}

/// A row with neither tax id nor code is matched by its name (accents, case and spacing
/// ignored), so that re-importing a plain list of names does not duplicate it. Two parties
/// with that name make the row ambiguous: an error, rather than a guess or a third one.
async fn find_party_by_name(conn: &mut Conn, company: &Company, name: Option<&str>) -> AppResult<Option<Party>> {
    let Some(name) = name.map(fold).filter(|n| !n.is_empty()) else { return Ok(None) };
    let found: Vec<PartyRow> =
        sqlx::query_as("SELECT * FROM parties WHERE (is_customer = 1 AND name_norm = $1) OR (is_supplier = 1 AND name_norm = $1) LIMIT 2")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await
            .map_err(store_err)?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.into_iter().next().map(|r| master::party_of(r, company.decimals()))),
        _ => Err(AppError::Invalid(FieldErrors::single("name", "import-name-ambiguous"))),
    }
}

/// Whether applying the row to `old` would leave every field as it is.
fn party_unchanged(old: &Party, input: &PartyIn, company: &Company) -> bool {
    let pick = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
    let merged = PartyInput {
        code: pick(&input.code, &old.code),
        name: Some(input.name.clone().unwrap_or_else(|| old.name.clone())),
        trade_name: pick(&input.trade_name, &old.trade_name),
        tax_scheme: pick(&input.tax_scheme, &old.tax_scheme),
        tax_id: pick(&input.tax_id, &old.tax_id),
        email: pick(&input.email, &old.email),
        phone: pick(&input.phone, &old.phone),
        mobile: pick(&input.mobile, &old.mobile),
        website: pick(&input.website, &old.website),
        street: pick(&input.street, &old.street),
        city: pick(&input.city, &old.city),
        region: pick(&input.region, &old.region),
        postal_code: pick(&input.postal_code, &old.postal_code),
        country: pick(&input.country, &old.country),
        payment_terms_days: Some(input.payment_terms_days.unwrap_or(old.payment_terms_days).to_string()),
        credit_limit: pick(&input.credit_limit, &old.credit_limit),
        notes: pick(&input.notes, &old.notes),
        tags: Some(input.tags.as_ref().unwrap_or(&old.tags).join(",")),
    };
    let d = company.decimals();
    let Ok(data) = party::validate_party(&merged, company.scheme(), d) else { return false };
    data.code == old.code
        && data.name == old.name
        && data.trade_name == old.trade_name
        && data.tax_id.as_ref().map(|t| t.as_str()) == old.tax_id.as_deref()
        && data.tax_id.as_ref().map(|t| t.scheme().code()) == old.tax_scheme.as_deref()
        && data.email == old.email
        && data.phone == old.phone
        && data.mobile == old.mobile
        && data.website == old.website
        && data.street == old.street
        && data.city == old.city
        && data.region == old.region
        && data.postal_code == old.postal_code
        && data.country == old.country
        && data.payment_terms_days == old.payment_terms_days
        && data.credit_limit_minor.map(|c| format_scaled(c, d)) == old.credit_limit
        && data.notes == old.notes
        && data.tags == old.tags
}

/// The article kind as written: the code or a Spanish word.
fn kind_code(raw: &str) -> String {
    match norm_header(raw).as_str() {
        "" => String::new(),
        "goods" | "bien" | "bienes" | "producto" | "mercaderia" | "mercancia" => "goods".into(),
        "service" | "servicio" | "servicios" => "service".into(),
        "manufactured" | "fabricado" | "elaborado" | "produccion propia" => "manufactured".into(),
        _ => raw.trim().to_string(),
    }
}

/// The article kind as exported.
fn kind_word(code: &str) -> &str {
    match code {
        "goods" => "bien",
        "service" => "servicio",
        "manufactured" => "fabricado",
        other => other,
    }
}

/// A tax rate named in a file: by its name (`IVA 21 %`, `Exento`) or its percentage
/// (`21`, `10,5`, `IVA 21%`, or `0.21` from a percent-formatted spreadsheet cell).
/// `Ok(None)` for an empty cell (no rate), `Err(())` when nothing matches.
fn resolve_rate(rates: &[TaxRateRow], raw: &str) -> Result<Option<String>, ()> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let f = fold(t);
    if let Some(r) = rates.iter().find(|r| fold(&r.name) == f) {
        return Ok(Some(r.id.clone()));
    }
    if matches!(f.as_str(), "exento" | "exenta" | "exempt") {
        return rates.iter().find(|r| r.exempt != 0).map(|r| Some(r.id.clone())).ok_or(());
    }
    let digits: String = t.chars().filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',').collect();
    let v = money::parse_decimal(&digits).map_err(|_| ())?;
    let find = |v: rust_decimal::Decimal| {
        let scaled = money::to_scaled(v, PERCENT_SCALE, false).ok()?;
        rates.iter().find(|r| r.exempt == 0 && r.rate == scaled).map(|r| r.id.clone())
    };
    let hundred = rust_decimal::Decimal::from(100);
    find(v).or_else(|| (v < rust_decimal::Decimal::ONE).then(|| find(v * hundred)).flatten()).map(Some).ok_or(())
}

/// A row of an articles file: its keys are the code and the barcode.
type ProductLine = Line<ProductIn>;

fn product_line(ctx: &Ctx<'_>, row: &[String]) -> ProductLine {
    let (cols, mut problems) = (&ctx.cols, Vec::new());
    let tax_rate_id = match cols.get(row, Field::TaxRate) {
        None => None,
        Some(raw) => match resolve_rate(&ctx.rates, raw) {
            Ok(id) => Some(id.unwrap_or_default()),
            Err(()) => {
                problems.push((Some("tax_rate".into()), "tax-rate-unknown".into()));
                None
            }
        },
    };
    let input = ProductIn {
        code: cols.owned(row, Field::Code),
        barcode: cols.owned(row, Field::Barcode),
        name: cols.owned(row, Field::Name),
        description: cols.owned(row, Field::Description),
        kind: cols.get(row, Field::Kind).map(kind_code),
        unit: cols.owned(row, Field::Unit),
        sale_price: amount(cols.get(row, Field::SalePrice)),
        cost: amount(cols.get(row, Field::Cost)),
        tax_rate_id,
        category: cols.owned(row, Field::Category),
        active: None,
        archived: None,
        version: None,
    };
    let code = input.code.as_deref().filter(|c| !c.trim().is_empty()).map(master::product_key);
    let barcode = input.barcode.as_deref().map(str::trim).filter(|b| !b.is_empty()).map(str::to_string);
    Line { input, problems, keys: [code, barcode], key_field: Some("code") }
}

/// An article row on its own: looked up in the database, then created or changed.
async fn product_row(conn: &mut Conn, ctx: &Ctx<'_>, line: &mut ProductLine, touched: &HashSet<String>) -> AppResult<Outcome> {
    let d = ctx.company.decimals();
    let found = match &line.keys[0] {
        None => None,
        Some(code) => master::find_product_tx(conn, d, code).await?,
    };
    let Some(old) = found else {
        let p = master::save_product_tx(conn, ctx.actor, d, None, &line.input).await?;
        return Ok(Outcome::Created(p.id));
    };
    match product_plan(line, &old, touched, d)? {
        Plan::Unchanged(id) => Ok(Outcome::Unchanged(id)),
        Plan::Update(()) => Ok(Outcome::Updated(master::save_product_tx(conn, ctx.actor, d, Some(&old.id), &line.input).await?.id)),
    }
}

/// What a row does to the article `old` its code found (`line.input` is made ready for a
/// change).
fn product_plan(line: &mut ProductLine, old: &Product, touched: &HashSet<String>, d: u32) -> AppResult<Plan<()>> {
    if touched.contains(&old.id) {
        return Err(AppError::Invalid(FieldErrors::single("code", "import-duplicate-row")));
    }
    if !old.archived && product_unchanged(old, &line.input, d) {
        return Ok(Plan::Unchanged(old.id.clone()));
    }
    if old.archived {
        line.input.archived = Some(false);
    }
    Ok(Plan::Update(()))
}

/// Articles.
struct Products;

impl Kind for Products {
    type Input = ProductIn;
    type Row = ProductRow;
    type Shown = Product;
    const ENTITY: &'static str = "product";
    const UNIQUE: [&'static str; 2] = ["code", "barcode"];
    const FINDING: usize = 1;

    fn read(&self, ctx: &Ctx<'_>, cells: &[String]) -> ProductLine {
        product_line(ctx, cells)
    }
    fn shown(row: ProductRow, decimals: u32) -> Product {
        master::product_of(row, decimals)
    }
    fn unique(row: &ProductRow) -> [Option<&str>; 2] {
        [Some(&row.code), row.barcode.as_deref()]
    }
    fn plan(&self, ctx: &Ctx<'_>, line: &mut ProductLine, old: &Product, touched: &HashSet<String>) -> AppResult<Plan<()>> {
        product_plan(line, old, touched, ctx.company.decimals())
    }
    fn create(&self, ctx: &Ctx<'_>, line: &ProductLine) -> AppResult<ProductRow> {
        // The rates a file names were read (not archived) in this transaction.
        let rate_known = match line.input.tax_rate_id.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => ctx.rates.iter().any(|r| r.id == t),
            _ => true,
        };
        master::new_product_row(ctx.actor, &line.input, ctx.company.decimals(), rate_known)
    }
}

fn product_unchanged(old: &Product, input: &ProductIn, d: u32) -> bool {
    let pick = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
    let merged = ProductInput {
        code: Some(input.code.clone().unwrap_or_else(|| old.code.clone())),
        barcode: pick(&input.barcode, &old.barcode),
        name: Some(input.name.clone().unwrap_or_else(|| old.name.clone())),
        description: pick(&input.description, &old.description),
        kind: Some(input.kind.clone().unwrap_or_else(|| old.kind.clone())),
        unit: Some(input.unit.clone().unwrap_or_else(|| old.unit.clone())),
        sale_price: Some(input.sale_price.clone().unwrap_or_else(|| old.sale_price.clone())),
        cost: Some(input.cost.clone().unwrap_or_else(|| old.cost.clone())),
        category: pick(&input.category, &old.category),
    };
    let Ok(data) = product::validate_product(&merged, d) else { return false };
    let rate = match &input.tax_rate_id {
        None => old.tax_rate_id.clone(),
        Some(r) if r.is_empty() => None,
        Some(r) => Some(r.clone()),
    };
    data.code == old.code
        && data.barcode == old.barcode
        && data.name == old.name
        && data.description == old.description
        && data.kind.code() == old.kind
        && data.unit == old.unit
        && format_scaled(data.sale_price_minor, d) == old.sale_price
        && format_scaled(data.cost_minor, d) == old.cost
        && data.category == old.category
        && rate == old.tax_rate_id
}

// ---------------------------------------------------------------- exporting

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

/// What a column holds, for the spreadsheet's number formats.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    Text,
    /// A decimal string in the company currency.
    Money,
    Whole,
    /// Any other number (a rate, a probability).
    Number,
}

/// A table to write: headers with their kind of values, and rows of text.
pub struct Sheet {
    pub title: &'static str,
    pub columns: Vec<(&'static str, ColKind)>,
    pub rows: Vec<Vec<String>>,
}

/// A table as a CSV (UTF-8 with a byte-order mark, CRLF, formulas defused) or XLSX file.
pub fn write_sheet(sheet: &Sheet, format: ExportFormat, decimals: u32) -> AppResult<Vec<u8>> {
    match format {
        ExportFormat::Csv => write_csv(sheet),
        ExportFormat::Xlsx => write_xlsx(sheet, decimals),
    }
}

/// Every non-archived customer, supplier or article as a CSV or XLSX file whose headers
/// (Spanish) [`read_table`] reads back.
pub async fn export(app: &App, actor: &Actor, kind: ImportKind, format: ExportFormat) -> AppResult<Vec<u8>> {
    actor.authorize(Action::Read, kind.resource())?;
    let company = master::company(app, actor).await?;
    let sheet = match kind.role() {
        Some(role) => party_sheet(app, actor, role, &company).await?,
        None => product_sheet(app, actor).await?,
    };
    write_sheet(&sheet, format, company.decimals())
}

/// The tax id column's header for the company's country.
fn tax_id_header(scheme: TaxScheme) -> &'static str {
    match scheme {
        TaxScheme::ArCuit => "CUIT",
        TaxScheme::CoNit => "NIT",
        TaxScheme::ClRut => "RUT",
        TaxScheme::MxRfc => "RFC",
        TaxScheme::EsNif => "NIF",
        TaxScheme::Other => "ID fiscal",
    }
}

async fn party_sheet(app: &App, actor: &Actor, role: PartyRole, company: &Company) -> AppResult<Sheet> {
    use ColKind::*;
    let columns = vec![
        ("Código", Text),
        ("Nombre", Text),
        ("Nombre de fantasía", Text),
        (tax_id_header(company.scheme()), Text),
        ("Esquema fiscal", Text),
        ("Correo", Text),
        ("Teléfono", Text),
        ("Celular", Text),
        ("Sitio web", Text),
        ("Dirección", Text),
        ("Ciudad", Text),
        ("Provincia", Text),
        ("Código postal", Text),
        ("País", Text),
        ("Días de pago", Whole),
        ("Límite de crédito", Money),
        ("Etiquetas", Text),
        ("Notas", Text),
    ];
    let mut rows = Vec::new();
    let mut cursor = None;
    loop {
        let page = master::list_parties(app, actor, role, &ListParams { limit: Some(200), cursor, ..Default::default() }).await?;
        for p in page.items {
            let o = |v: Option<String>| v.unwrap_or_default();
            rows.push(vec![
                o(p.code),
                p.name,
                o(p.trade_name),
                o(p.tax_id.clone()),
                if p.tax_id.is_some() { o(p.tax_scheme) } else { String::new() },
                o(p.email),
                o(p.phone),
                o(p.mobile),
                o(p.website),
                o(p.street),
                o(p.city),
                o(p.region),
                o(p.postal_code),
                o(p.country),
                p.payment_terms_days.to_string(),
                o(p.credit_limit),
                p.tags.join(", "),
                o(p.notes),
            ]);
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let title = if role == PartyRole::Customer { "Clientes" } else { "Proveedores" };
    Ok(Sheet { title, columns, rows })
}

async fn product_sheet(app: &App, actor: &Actor) -> AppResult<Sheet> {
    use ColKind::*;
    let columns = vec![
        ("Código", Text),
        ("Nombre", Text),
        ("Descripción", Text),
        ("Tipo", Text),
        ("Unidad", Text),
        ("Precio de venta", Money),
        ("Costo", Money),
        ("IVA", Text),
        ("Categoría", Text),
        ("Código de barras", Text),
    ];
    let rate_names: HashMap<String, String> = if actor.can(Action::Read, Resource::TaxRates) {
        master::list_tax_rates(app, actor, true).await?.into_iter().map(|r| (r.id, r.name)).collect()
    } else {
        HashMap::new()
    };
    let mut rows = Vec::new();
    let mut cursor = None;
    loop {
        let page = master::list_products(app, actor, &ListParams { limit: Some(200), cursor, ..Default::default() }).await?;
        for p in page.items {
            let rate = p.tax_rate_id.as_ref().and_then(|id| rate_names.get(id)).cloned().unwrap_or_default();
            rows.push(vec![
                p.code,
                p.name,
                p.description.unwrap_or_default(),
                kind_word(&p.kind).to_string(),
                p.unit,
                p.sale_price,
                p.cost,
                rate,
                p.category.unwrap_or_default(),
                p.barcode.unwrap_or_default(),
            ]);
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(Sheet { title: "Artículos", columns, rows })
}

/// A CSV cell that a spreadsheet would run as a formula gets a leading `'` (which
/// [`Columns::get`] removes on import). Phone numbers and signed numbers (`+54 11 …`,
/// `-5`) are left alone: without letters they cannot call anything.
fn csv_safe(v: &str) -> std::borrow::Cow<'_, str> {
    let risky =
        v.starts_with(['=', '@']) || (v.starts_with(['+', '-']) && v.chars().any(|c| !(c.is_ascii_digit() || " +-()./,".contains(c))));
    if risky {
        std::borrow::Cow::Owned(format!("'{v}"))
    } else {
        std::borrow::Cow::Borrowed(v)
    }
}

fn write_csv(sheet: &Sheet) -> AppResult<Vec<u8>> {
    let internal = |e: csv::Error| AppError::Internal(e.to_string());
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new().delimiter(b',').terminator(csv::Terminator::CRLF).from_writer(&mut out);
        w.write_record(sheet.columns.iter().map(|(h, _)| *h)).map_err(internal)?;
        for r in &sheet.rows {
            w.write_record(r.iter().map(|v| csv_safe(v).into_owned())).map_err(internal)?;
        }
        w.flush().map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(out)
}

fn write_xlsx(sheet: &Sheet, decimals: u32) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet.title).map_err(x)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format(if decimals == 0 { "0".to_string() } else { format!("0.{}", "0".repeat(decimals as usize)) });
    let whole = Format::new().set_num_format("0");
    for (c, (header, _)) in sheet.columns.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *header, &bold).map_err(x)?;
    }
    for (r, values) in sheet.rows.iter().enumerate() {
        let r = (r + 1) as u32;
        for (c, v) in values.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            let kind = sheet.columns.get(c).map_or(ColKind::Text, |(_, k)| *k);
            match (kind, v.parse::<f64>()) {
                (ColKind::Money, Ok(n)) => ws.write_number_with_format(r, c as u16, n, &money).map_err(x)?,
                (ColKind::Whole, Ok(n)) => ws.write_number_with_format(r, c as u16, n, &whole).map_err(x)?,
                (ColKind::Number, Ok(n)) => ws.write_number(r, c as u16, n).map_err(x)?,
                _ => ws.write_string(r, c as u16, v).map_err(x)?,
            };
        }
    }
    for (c, (header, _)) in sheet.columns.iter().enumerate() {
        let widest =
            sheet.rows.iter().filter_map(|r| r.get(c)).map(|v| v.lines().map(|l| l.chars().count()).max().unwrap_or(0)).max().unwrap_or(0);
        let width = widest.max(header.chars().count() + 2).clamp(8, 50);
        ws.set_column_width(c as u16, width as f64 + 1.0).map_err(x)?;
    }
    ws.set_freeze_panes(1, 0).map_err(x)?;
    if !sheet.columns.is_empty() {
        ws.autofilter(0, 0, sheet.rows.len() as u32, (sheet.columns.len() - 1) as u16).map_err(x)?;
    }
    wb.save_to_buffer().map_err(x)
}

// ---------------------------------------------------------------- vCard

/// Every non-archived contact as vCard 4.0, one card each, `ORG` the party's name.
pub async fn export_vcards(app: &App, actor: &Actor) -> AppResult<String> {
    actor.authorize(Action::Read, Resource::Contacts)?;
    let mut party_names: HashMap<String, String> = HashMap::new();
    for role in [PartyRole::Customer, PartyRole::Supplier] {
        if !actor.can(Action::Read, role.resource()) {
            continue;
        }
        let mut cursor = None;
        loop {
            let params = ListParams { limit: Some(200), cursor, archived: Some(true), ..Default::default() };
            let page = master::list_parties(app, actor, role, &params).await?;
            party_names.extend(page.items.into_iter().map(|p| (p.id, p.name)));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
    }
    let mut out = String::new();
    let mut cursor = None;
    loop {
        let page = master::list_contacts(app, actor, &ListParams { limit: Some(200), cursor, ..Default::default() }, None).await?;
        for c in &page.items {
            write_vcard(&mut out, c, party_names.get(&c.party_id).map(String::as_str));
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(out)
}

/// Escapes a text value: backslash, comma, semicolon and line breaks.
fn vcard_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 8);
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Writes one content line, folded so that no line exceeds 75 octets (a continuation
/// line starts with a space, which counts), never splitting a UTF-8 character.
fn vcard_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// "Pérez, Juan" → ("Pérez", "Juan"); "Juan Pérez" → ("Pérez", "Juan"); "Juan" → ("", "Juan").
fn split_name(name: &str) -> (String, String) {
    if let Some((family, given)) = name.split_once(',') {
        return (family.trim().to_string(), given.trim().to_string());
    }
    match name.trim().rsplit_once(' ') {
        Some((given, family)) => (family.trim().to_string(), given.trim().to_string()),
        None => (String::new(), name.trim().to_string()),
    }
}

fn write_vcard(out: &mut String, c: &Contact, org: Option<&str>) {
    let (family, given) = split_name(&c.name);
    vcard_line(out, "BEGIN:VCARD");
    vcard_line(out, "VERSION:4.0");
    vcard_line(out, &format!("UID:urn:uuid:{}", c.id));
    vcard_line(out, &format!("FN:{}", vcard_escape(&c.name)));
    vcard_line(out, &format!("N:{};{};;;", vcard_escape(&family), vcard_escape(&given)));
    if let Some(org) = org {
        vcard_line(out, &format!("ORG:{}", vcard_escape(org)));
    }
    if let Some(t) = &c.job_title {
        vcard_line(out, &format!("TITLE:{}", vcard_escape(t)));
    }
    if let Some(e) = &c.email {
        vcard_line(out, &format!("EMAIL;TYPE=work:{}", vcard_escape(e)));
    }
    if let Some(p) = &c.phone {
        vcard_line(out, &format!("TEL;TYPE=work:{}", vcard_escape(p)));
    }
    if let Some(m) = &c.mobile {
        vcard_line(out, &format!("TEL;TYPE=cell:{}", vcard_escape(m)));
    }
    if let Some(n) = &c.notes {
        vcard_line(out, &format!("NOTE:{}", vcard_escape(n)));
    }
    vcard_line(out, "END:VCARD");
}

/// One property of a card: upper-case name (group removed), parameters, raw value.
#[derive(Debug)]
struct CardProp {
    name: String,
    types: Vec<String>,
    value: String,
}

/// A card as read, with its position in the file (from 1).
#[derive(Debug, Default)]
struct Card {
    row: usize,
    props: Vec<CardProp>,
    bad_line: bool,
}

/// Undoes the escapes of a text value (`\n`, `\,`, `\;`, `\\`, and any other `\x` → `x`).
fn vcard_unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a structured value (`N`, `ORG`) at unescaped semicolons, unescaping each part.
fn vcard_components(v: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ';' => parts.push(vcard_unescape(&std::mem::take(&mut cur))),
            c => cur.push(c),
        }
    }
    parts.push(vcard_unescape(&cur));
    parts
}

/// Parses content lines: `[group.]NAME *(;PARAM[=VALUE]) : VALUE`, with parameter values
/// possibly quoted (and then holding `:` or `;`).
fn vcard_prop(line: &str) -> Option<CardProp> {
    let mut quoted = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = Vec::new();
    let mut cur = String::new();
    quoted = false;
    for c in head.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    let mut it = parts.into_iter();
    let name = it.next()?;
    let name = name.rsplit('.').next().unwrap_or(&name).trim().to_ascii_uppercase();
    if name.is_empty() {
        return None;
    }
    let mut types = Vec::new();
    for p in it {
        let (k, v) = match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_uppercase(), v.to_string()),
            None => ("TYPE".to_string(), p), // vCard 2.1: TEL;CELL:…
        };
        if k == "TYPE" {
            types.extend(v.split(',').map(|t| t.trim().to_ascii_lowercase()).filter(|t| !t.is_empty()));
        }
    }
    Some(CardProp { name, types, value: value.to_string() })
}

/// Unfolds the text and groups its lines into cards. Lines outside `BEGIN:VCARD` …
/// `END:VCARD` are ignored; a card never closed still counts.
fn parse_vcards(text: &str) -> Vec<Card> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.trim_start_matches('\u{feff}').split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(prev)) => prev.push_str(rest),
            _ => lines.push(raw.to_string()),
        }
    }
    let mut cards = Vec::new();
    let mut current: Option<Card> = None;
    let mut depth = 0;
    for line in lines.iter().map(|l| l.trim_end()).filter(|l| !l.is_empty()) {
        let upper = line.to_ascii_uppercase();
        if upper == "BEGIN:VCARD" {
            depth += 1;
            if depth == 1 {
                current = Some(Card { row: cards.len() + 1, ..Default::default() });
            }
            continue;
        }
        if upper == "END:VCARD" {
            depth = (depth - 1).max(0);
            if depth == 0 {
                cards.extend(current.take());
            }
            continue;
        }
        // Properties of an embedded card (vCard 3.0 AGENT) are not this card's.
        let Some(card) = current.as_mut().filter(|_| depth == 1) else { continue };
        match vcard_prop(line) {
            Some(p) => card.props.push(p),
            None => card.bad_line = true,
        }
    }
    cards.extend(current.take());
    cards
}

/// A card as a contact. Extra e-mails and phones (Tendero keeps one e-mail, one phone
/// and one mobile) go to the notes, so nothing from the card is lost.
fn card_contact(card: &Card) -> ContactInput {
    let mut c = ContactInput::default();
    let mut n_name = None;
    let mut role = None;
    let mut notes: Vec<String> = Vec::new();
    let mut extras: Vec<String> = Vec::new();
    for p in &card.props {
        let text = || vcard_unescape(p.value.trim());
        match p.name.as_str() {
            "FN" => c.name = Some(text()).filter(|t| !t.trim().is_empty()).or(c.name.take()),
            "N" => {
                let parts = vcard_components(&p.value);
                let get = |i: usize| parts.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
                // prefix given additional family suffix
                let joined = [get(3), get(1), get(2), get(0), get(4)].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
                if !joined.is_empty() {
                    n_name = Some(joined);
                }
            }
            "TITLE" => c.job_title = c.job_title.take().or(Some(text())),
            "ROLE" => role = role.or(Some(text())),
            "EMAIL" => {
                let v = text().trim().trim_start_matches("mailto:").to_string();
                if c.email.is_none() {
                    c.email = Some(v);
                } else {
                    extras.push(format!("EMAIL: {v}"));
                }
            }
            "TEL" => {
                let v = text();
                let v = v.trim().trim_start_matches("tel:").to_string();
                let cell = p.types.iter().any(|t| t == "cell" || t == "mobile");
                let other = p.types.iter().any(|t| t == "fax" || t == "pager");
                let slot = if other {
                    None
                } else if cell {
                    Some(&mut c.mobile)
                } else {
                    Some(&mut c.phone)
                };
                match slot {
                    Some(s) if s.is_none() => *s = Some(v),
                    _ => extras.push(format!("TEL: {v}")),
                }
            }
            "NOTE" => notes.push(text()),
            _ => {}
        }
    }
    if c.name.is_none() {
        c.name = n_name;
    }
    if c.job_title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        c.job_title = role;
    }
    notes.extend(extras);
    if !notes.is_empty() {
        c.notes = Some(notes.join("\n"));
    }
    c
}

/// Creates the contacts of the cards in `text` for one party, in one transaction, with
/// the same report and options as [`import`] (a row is a card, counted from 1).
/// A card whose name and e-mail match a contact the party already has updates it (or is
/// `unchanged`), so importing the same file twice creates no duplicates.
///
/// Contacts are written here rather than through `master::create_contact`, which opens
/// its own transaction; the rows, search text and audit entries are the same.
pub async fn import_vcards(app: &App, actor: &Actor, party_id: &str, text: &str, opts: &ImportOptions) -> AppResult<ImportReport> {
    actor.authorize(Action::Create, Resource::Contacts)?;
    let party_id = parse_id(party_id)?;
    let cards = parse_vcards(text);
    if cards.is_empty() {
        return Err(AppError::Invalid(FieldErrors::single("file", "vcard-no-cards")));
    }
    let mut tx = app.db.begin().await?;
    match rows::get::<PartyRow>(&mut tx, &party_id).await? {
        Some(p) if p.archived_at.is_none() => {}
        _ => return Err(AppError::NotFound),
    }
    let existing: Vec<ContactRow> = sqlx::query_as("SELECT * FROM contacts WHERE party_id = $1 AND archived_at IS NULL")
        .bind(&party_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_err)?;
    let mut by_key: HashMap<(String, Option<String>), ContactRow> =
        existing.into_iter().map(|r| ((r.name_norm.clone(), r.email.clone()), r)).collect();
    let mut touched: HashSet<(String, Option<String>)> = HashSet::new();
    let mut report = ImportReport::default();
    let mut failed = false;
    for card in &cards {
        report.rows += 1;
        let mut problems: Problems = Vec::new();
        if card.bad_line {
            problems.push((None, "vcard-bad-line".into()));
        }
        let input = card_contact(card);
        let outcome = match party::validate_contact(&input) {
            Err(e) => {
                problems.extend(e.0.into_iter().map(|(f, k)| (Some(f), k)));
                None
            }
            Ok(_) if !problems.is_empty() => None,
            Ok(data) => {
                let key = (fold(&data.name), data.email.clone());
                if !touched.insert(key.clone()) {
                    problems.push((Some("name".into()), "import-duplicate-row".into()));
                    None
                } else {
                    let mut sp = sqlx::Connection::begin(&mut *tx).await.map_err(store_err)?;
                    let r = save_contact(&mut sp, actor, &party_id, data, by_key.get(&key)).await;
                    match r {
                        Ok((o, row)) => {
                            sp.commit().await.map_err(store_err)?;
                            by_key.insert(key, row);
                            Some(o)
                        }
                        Err(AppError::Invalid(f)) => {
                            sp.rollback().await.map_err(store_err)?;
                            problems.extend(f.0.into_iter().map(|(f, k)| (Some(f), k)));
                            None
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        };
        match outcome {
            Some(Outcome::Created(_)) => report.created += 1,
            Some(Outcome::Updated(_)) => report.updated += 1,
            Some(Outcome::Unchanged(_)) => report.unchanged += 1,
            None => {
                if opts.skip_bad_rows {
                    report.skipped += 1;
                } else {
                    failed = true;
                }
                problems.sort();
                for (field, key) in problems {
                    if report.errors.len() < MAX_ERRORS {
                        report.errors.push(RowError { row: card.row, field, key });
                    }
                }
            }
        }
    }
    report.applied = !opts.dry_run && !failed;
    if report.applied {
        tx.commit().await.map_err(store_err)?;
    } else {
        tx.rollback().await.map_err(store_err)?;
    }
    Ok(report)
}

/// Creates a contact, or updates `old` when something differs; audited like the use cases.
async fn save_contact(
    conn: &mut Conn,
    actor: &Actor,
    party_id: &str,
    d: party::ContactData,
    old: Option<&ContactRow>,
) -> AppResult<(Outcome, ContactRow)> {
    if let Some(o) = old {
        let same = o.name == d.name
            && o.job_title == d.job_title
            && o.email == d.email
            && o.phone == d.phone
            && o.mobile == d.mobile
            && o.notes == d.notes;
        if same {
            return Ok((Outcome::Unchanged(o.id.clone()), o.clone()));
        }
        actor.authorize(Action::Update, Resource::Contacts)?;
    }
    let mut row = master::contact_row(d, old.map_or_else(new_id, |o| o.id.clone()), party_id.to_string());
    if let Some(o) = old {
        row.created_at = o.created_at.clone();
        row.version = o.version;
    }
    match old {
        None => {
            rows::insert(conn, &row).await?;
            audit::record(conn, actor, "create", "contact", &row.id, None::<&Contact>, Some(&master::contact_of(row.clone()))).await?;
            Ok((Outcome::Created(row.id.clone()), row))
        }
        Some(o) => {
            rows::update(conn, &row).await?;
            row.version += 1;
            audit::record(
                conn,
                actor,
                "update",
                "contact",
                &row.id,
                Some(&master::contact_of(o.clone())),
                Some(&master::contact_of(row.clone())),
            )
            .await?;
            Ok((Outcome::Updated(row.id.clone()), row))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_in_spanish_and_english_without_accents() {
        for (h, f) in [
            ("Razón Social", Field::Name),
            ("CUIT", Field::TaxId),
            ("tax_id", Field::TaxId),
            ("Tax ID", Field::TaxId),
            ("E-mail", Field::Email),
            ("Límite de crédito", Field::CreditLimit),
            ("Días de pago", Field::PaymentTermsDays),
            ("Precio venta", Field::SalePrice),
            ("IVA %", Field::TaxRate),
            ("Código de barras", Field::Barcode),
            ("  CÓDIGO ", Field::Code),
            ("sale_price", Field::SalePrice),
        ] {
            assert_eq!(Field::of_header(h), Some(f), "{h}");
        }
        assert_eq!(Field::of_header("Color"), None);
        for f in Field::ALL {
            assert_eq!(Field::of_header(f.name()), Some(f), "{f:?}");
        }
    }

    #[test]
    fn delimiters_are_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2;3"), b';');
        assert_eq!(sniff_delimiter(b"\"x;y\",b\n"), b',');
        assert_eq!(sniff_delimiter(b"nombre\n"), b',');
        assert_eq!(sniff_delimiter(b"a\tb\tc\n"), b'\t');
    }

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(number_text(1234.0), "1234");
        assert_eq!(number_text(1234.5), "1234.5");
        assert_eq!(number_text(20123456786.0), "20123456786");
        assert_eq!(number_text(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn ragged_rows_and_blank_rows() {
        let t = read_table(b"nombre,cuit\r\nA,1\r\n,\r\nB,2\r\n").expect("table");
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[1], vec!["", ""]);
        let e = read_table(b"nombre,cuit\nA,1\nB\n").expect_err("ragged");
        assert_eq!((e.key(), e.row()), ("import-ragged-row", Some(2)));
        // Trailing empty separators are fine.
        assert!(read_table(b"nombre;cuit;;\nA;1;;\n").is_ok());
    }

    #[test]
    fn empty_spacer_columns_are_dropped_but_data_needs_a_header() {
        let t = read_table(b"nombre;;cuit\nAna;;20-12345678-6\n").expect("table");
        assert_eq!(t.headers, vec!["nombre", "cuit"]);
        assert_eq!(t.rows, vec![vec!["Ana".to_string(), "20-12345678-6".to_string()]]);
        assert_eq!(read_table(b"nombre;;cuit\nAna;x;1\n"), Err(TransferError::EmptyHeader { column: 2 }));
    }

    #[test]
    fn formula_like_cells_are_protected_and_restored() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("+54 11 4555-1234"), "+54 11 4555-1234");
        assert_eq!(csv_safe("-cmd|x"), "'-cmd|x");
        let t = read_table("nombre\n'=SUMA(1)\n".as_bytes()).expect("table");
        let cols = resolve_columns(ImportKind::Customers, &t).expect("cols");
        assert_eq!(cols.get(&t.rows[0], Field::Name), Some("=SUMA(1)"));
    }

    #[test]
    fn tax_rates_by_name_or_percentage() {
        let rate = |id: &str, name: &str, rate: i64, exempt: i64| TaxRateRow {
            id: id.into(),
            name: name.into(),
            rate,
            exempt,
            archived_at: None,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        };
        let rates =
            vec![rate("a", "IVA 21 %", 2100, 0), rate("b", "IVA 10,5 %", 1050, 0), rate("c", "Exento", 0, 1), rate("d", "IVA 0 %", 0, 0)];
        for (text, id) in
            [("21", "a"), ("IVA 21%", "a"), ("iva 21 %", "a"), ("10,5", "b"), ("10.5", "b"), ("exento", "c"), ("0", "d"), ("0.21", "a")]
        {
            assert_eq!(resolve_rate(&rates, text), Ok(Some(id.to_string())), "{text}");
        }
        assert_eq!(resolve_rate(&rates, ""), Ok(None));
        assert_eq!(resolve_rate(&rates, "19"), Err(()));
        assert_eq!(resolve_rate(&rates, "mucho"), Err(()));
    }

    #[test]
    fn vcard_escaping_folding_and_parsing() {
        assert_eq!(vcard_escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(vcard_unescape("a\\,b\\;c\\\\d\\ne"), "a,b;c\\d\ne");
        let mut out = String::new();
        let long = format!("NOTE:{}", "ñ".repeat(100));
        vcard_line(&mut out, &long);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        let cards = parse_vcards(&format!("BEGIN:VCARD\r\n{out}END:VCARD\r\n"));
        assert_eq!(cards.len(), 1);
        assert_eq!(card_contact(&cards[0]).notes.as_deref(), Some("ñ".repeat(100).as_str()));

        let v3 = "BEGIN:VCARD\nVERSION:3.0\nN:Pérez;Juan;;Dr.;\nitem1.EMAIL;TYPE=INTERNET,pref:juan@example.com\nTEL;TYPE=CELL,VOICE:+54 9 11 5555-0000\nTEL;TYPE=\"work,voice\":+54 11 4\n 555-1234\nTEL;FAX:+54 11 0000-0000\nTITLE:Jefe\\, compras\nEND:VCARD\n";
        let cards = parse_vcards(v3);
        let c = card_contact(&cards[0]);
        assert_eq!(c.name.as_deref(), Some("Dr. Juan Pérez"));
        assert_eq!(c.email.as_deref(), Some("juan@example.com"));
        assert_eq!(c.mobile.as_deref(), Some("+54 9 11 5555-0000"));
        assert_eq!(c.phone.as_deref(), Some("+54 11 4555-1234"));
        assert_eq!(c.job_title.as_deref(), Some("Jefe, compras"));
        assert_eq!(c.notes.as_deref(), Some("TEL: +54 11 0000-0000"));
        assert_eq!(split_name("Pérez, Juan"), ("Pérez".to_string(), "Juan".to_string()));
        assert_eq!(split_name("Juan Carlos Pérez"), ("Pérez".to_string(), "Juan Carlos".to_string()));
    }
}
