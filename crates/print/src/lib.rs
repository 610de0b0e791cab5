//! Business documents as A4 PDF: invoices, quotes, orders, delivery notes, credit and
//! debit notes, receipts and account statements.
//!
//! Layout lives in typst templates, the data in plain structures of preformatted text
//! ([`PrintDocument`], [`PrintStatement`]); the printer does no arithmetic and no I/O
//! beyond reading a business's own templates. Fonts are embedded (no system fonts), so a
//! document prints the same on every machine.
//!
//! A business may put its own `document.typ` and `statement.typ` in a template directory;
//! they are read at every render, so an edit shows on the next print. The shipped
//! templates (`templates/`) are the fallback and the starting point for such a copy. A
//! template reads its data with `json("data.json")` and the logo as the image file named by
//! `data.logo` (`none` without a logo); other files of the directory can be `#import`ed or
//! shown with `image(...)`.

mod model;
mod world;

pub use model::{Align, Column, Field, Labels, PrintDocument, PrintParty, PrintStatement, PrintTax};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use typst::diag::{Severity, SourceDiagnostic};
use typst::foundations::Bytes;
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

use world::{file_id, RenderWorld};

const DOCUMENT_TEMPLATE: &str = include_str!("../templates/document.typ");
const STATEMENT_TEMPLATE: &str = include_str!("../templates/statement.typ");

/// How many renders an unused piece of typst's memoisation cache survives. Keeps a
/// long-running server's memory flat while consecutive renders still share work.
const CACHE_MAX_AGE: usize = 10;

/// Why a document could not be printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// The template did not compile or failed while laying out the data. The message
    /// lists each problem with its file, line and column.
    #[error("template {template} failed:\n{message}")]
    Template { template: String, message: String },
    /// A business's template exists but could not be read.
    #[error("cannot read template {}: {source}", path.display())]
    TemplateRead { path: PathBuf, source: std::io::Error },
    /// The data cannot be printed as given (e.g. a row with the wrong number of cells).
    #[error("invalid print data: {0}")]
    Data(String),
    /// The logo is not an image format the printer knows.
    #[error("the logo is not a PNG, JPEG, GIF, WebP or SVG image")]
    Logo,
    /// The laid-out document could not be written as PDF.
    #[error("PDF export failed: {0}")]
    Pdf(String),
}

/// The embedded fonts, parsed once.
pub(crate) struct Fonts {
    pub book: LazyHash<FontBook>,
    pub fonts: Vec<Font>,
}

/// The two kinds of printout and where their templates come from.
#[derive(Clone, Copy)]
enum Kind {
    Document,
    Statement,
}

impl Kind {
    fn file_name(self) -> &'static str {
        match self {
            Kind::Document => "document.typ",
            Kind::Statement => "statement.typ",
        }
    }
}

/// Renders documents to PDF. Build one at start-up and share it (`Arc<Printer>`): it
/// holds the parsed fonts and the standard library, so each render only lays out.
pub struct Printer {
    library: LazyHash<Library>,
    fonts: Fonts,
    template_dir: Option<PathBuf>,
    document: Source,
    statement: Source,
    data_id: FileId,
    logo_id: FileId,
}

impl Printer {
    /// `template_dir`: a directory where the business may put its own `document.typ` /
    /// `statement.typ` (changed without recompiling; read at each render so edits show at
    /// once); the shipped templates are the fallback. Font files (`.ttf`, `.otf`) in its
    /// `fonts/` subdirectory are loaded here, once, for those templates to use.
    pub fn new(template_dir: Option<PathBuf>) -> Printer {
        let mut fonts: Vec<Font> = typst_assets::fonts().flat_map(|data| Font::iter(Bytes::new(data))).collect();
        if let Some(dir) = &template_dir {
            fonts.extend(business_fonts(&dir.join("fonts")));
        }
        let book = LazyHash::new(FontBook::from_fonts(&fonts));
        Printer {
            library: LazyHash::new(Library::default()),
            fonts: Fonts { book, fonts },
            template_dir,
            document: Source::new(file_id(&format!("/{}", Kind::Document.file_name())), DOCUMENT_TEMPLATE.to_string()),
            statement: Source::new(file_id(&format!("/{}", Kind::Statement.file_name())), STATEMENT_TEMPLATE.to_string()),
            data_id: file_id("/data.json"),
            logo_id: file_id("/logo"),
        }
    }

    /// A quote, order, delivery note, invoice, credit/debit note or receipt as PDF bytes.
    pub fn document(&self, doc: &PrintDocument) -> Result<Vec<u8>, PrintError> {
        check_table(doc.columns.len(), &doc.rows)?;
        self.render(Kind::Document, doc, doc.logo.as_deref())
    }

    /// A customer's account statement as PDF bytes.
    pub fn statement(&self, st: &PrintStatement) -> Result<Vec<u8>, PrintError> {
        check_table(st.columns.len(), &st.rows)?;
        self.render(Kind::Statement, st, st.logo.as_deref())
    }

    /// The shipped template of a kind ("document.typ" or "statement.typ"), for a business
    /// that wants to start its own from it.
    pub fn default_template(name: &str) -> Option<&'static str> {
        match name {
            "document.typ" => Some(DOCUMENT_TEMPLATE),
            "statement.typ" => Some(STATEMENT_TEMPLATE),
            _ => None,
        }
    }

    fn render(&self, kind: Kind, data: &impl Serialize, logo: Option<&[u8]>) -> Result<Vec<u8>, PrintError> {
        if logo.is_some_and(|bytes| typst::visualize::ImageFormat::detect(bytes).is_none()) {
            return Err(PrintError::Logo);
        }
        let (main, dir) = self.template(kind)?;
        let data = template_data(data, logo.is_some(), &self.logo_id)?;
        let world = RenderWorld {
            library: &self.library,
            fonts: &self.fonts,
            main,
            data_id: self.data_id,
            data: Bytes::new(data),
            logo_id: self.logo_id,
            logo: logo.map(|bytes| Bytes::new(bytes.to_vec())),
            dir,
        };
        let template = kind.file_name().to_string();
        // A business's template can reach corners of typst that panic; that is one failed
        // print, not a crashed server.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match typst::compile::<PagedDocument>(&world).output {
            Ok(document) => {
                typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default()).map_err(|diags| PrintError::Pdf(describe(&world, &diags)))
            }
            Err(diags) => Err(PrintError::Template { template: template.clone(), message: describe(&world, &diags) }),
        }))
        .unwrap_or_else(|panic| {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
            Err(PrintError::Template { template, message: format!("typst stopped unexpectedly: {}", what.unwrap_or_default()) })
        });
        typst::comemo::evict(CACHE_MAX_AGE);
        result
    }

    /// The business's template if it has one, else the shipped one; with the directory its
    /// other files are read from.
    fn template(&self, kind: Kind) -> Result<(Source, Option<&Path>), PrintError> {
        let shipped = match kind {
            Kind::Document => &self.document,
            Kind::Statement => &self.statement,
        };
        if let Some(dir) = &self.template_dir {
            let path = dir.join(kind.file_name());
            match std::fs::read_to_string(&path) {
                Ok(text) => return Ok((Source::new(shipped.id(), text), Some(dir.as_path()))),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(PrintError::TemplateRead { path, source }),
            }
        }
        Ok((shipped.clone(), None))
    }
}

/// Every row has one cell per column, or a single cell that spans the table.
fn check_table(columns: usize, rows: &[Vec<String>]) -> Result<(), PrintError> {
    if columns == 0 && !rows.is_empty() {
        return Err(PrintError::Data("the table has rows but no columns".into()));
    }
    for (i, row) in rows.iter().enumerate() {
        if row.len() != columns && row.len() != 1 {
            return Err(PrintError::Data(format!(
                "row {} has {} cells but the table has {columns} columns (a row has one cell per column, or a single cell)",
                i + 1,
                row.len()
            )));
        }
    }
    Ok(())
}

/// The JSON a template reads: the data, the logo's virtual path, a usable language.
fn template_data(data: &impl Serialize, has_logo: bool, logo_id: &FileId) -> Result<Vec<u8>, PrintError> {
    let mut value = serde_json::to_value(data).map_err(|err| PrintError::Data(err.to_string()))?;
    if let Some(object) = value.as_object_mut() {
        let logo = if has_logo { serde_json::Value::from(logo_id.vpath().get_with_slash()) } else { serde_json::Value::Null };
        object.insert("logo".into(), logo);
        // typst refuses anything but an ISO 639 code; a wrong one should not stop a print.
        let lang = object.get("lang").and_then(|l| l.as_str()).unwrap_or_default();
        if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
            object.insert("lang".into(), "es".into());
        }
    }
    serde_json::to_vec(&value).map_err(|err| PrintError::Data(err.to_string()))
}

/// The `.ttf`/`.otf`/`.ttc` files of a directory; unreadable ones are left out.
fn business_fonts(dir: &Path) -> Vec<Font> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "ttf" | "otf" | "ttc" | "otc"))
        })
        .filter_map(|p| std::fs::read(p).ok())
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect()
}

/// Diagnostics as a person reads them: `document.typ:12:5: error: unknown variable: foo`,
/// with the offending source line and typst's hints.
fn describe(world: &dyn World, diags: &[SourceDiagnostic]) -> String {
    let mut out = String::new();
    for diag in diags.iter().filter(|d| d.severity == Severity::Error) {
        if !out.is_empty() {
            out.push('\n');
        }
        let mut line_text = None;
        if let Some(id) = diag.span.id() {
            let name = id.vpath().get_without_slash().to_string();
            let position = world.range(diag.span).zip(world.source(id).ok()).and_then(|(range, source)| {
                let (line, col) = source.lines().byte_to_line_column(range.start)?;
                line_text = source.text().lines().nth(line).map(|l| l.trim().to_string());
                Some((line + 1, col + 1))
            });
            let _ = match position {
                Some((line, col)) => write!(out, "{name}:{line}:{col}: "),
                None => write!(out, "{name}: "),
            };
        }
        let _ = write!(out, "error: {}", diag.message);
        if let Some(text) = line_text.filter(|t| !t.is_empty()) {
            let _ = write!(out, "\n    | {text}");
        }
        for hint in &diag.hints {
            let _ = write!(out, "\n  hint: {}", hint.v);
        }
        for point in &diag.trace {
            let _ = write!(out, "\n  ({})", point.v);
        }
    }
    if out.is_empty() {
        out.push_str("unknown error");
    }
    out
}
