//! Master data rows (parties, contacts, employees, tax rates, articles, the company) and
//! the few generic operations every record shares: insert, optimistic update, get, and a
//! keyset-paginated, searchable list.

use crate::{Conn, StoreError};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::QueryAs;
use sqlx::{Any, Arguments, FromRow};

type Q<'q, R> = QueryAs<'q, Any, R, AnyArguments<'q>>;

/// A row of a master-data table with `id`, `version`, `name_norm`, `search_text` and
/// `archived_at` columns.
pub trait Record: for<'r> FromRow<'r, AnyRow> + Send + Unpin + 'static {
    const TABLE: &'static str;
    /// Every column but `id` and `version`, in the order `bind` binds them.
    const COLUMNS: &'static [&'static str];
    fn id(&self) -> &str;
    fn version(&self) -> i64;
    fn bind<'q, R>(&'q self, q: Q<'q, R>) -> Q<'q, R>;
}

macro_rules! binds {
    ($q:ident, $self:ident, $($f:ident),+ $(,)?) => { $q$(.bind(&$self.$f))+ };
}

fn is_sqlite(conn: &Conn) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

/// How many values one statement may bind: SQLite's limit (32766 since 3.32) or
/// PostgreSQL's (65535).
pub(crate) fn max_params(conn: &Conn) -> usize {
    if is_sqlite(conn) {
        32_766
    } else {
        65_535
    }
}

/// `n` placeholders for the values bound from the `first` on: `$first, $first+1, …` on
/// PostgreSQL, plain `?` on SQLite, where binding each numbered one makes SQLite scan the
/// names of all of them (a statement with ten thousand values spent seconds binding).
pub(crate) fn placeholders(conn: &Conn, first: usize, n: usize) -> String {
    if is_sqlite(conn) {
        return vec!["?"; n].join(", ");
    }
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `INSERT … (cols, version, id)` or `UPDATE … SET cols WHERE id AND version`, with the
/// columns bound first, then the version, then the id.
pub(crate) fn save_sql(table: &str, cols: &[&str], insert: bool) -> String {
    let n = cols.len();
    if insert {
        let marks = (1..=n + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        format!("INSERT INTO {table} ({}, version, id) VALUES ({marks})", cols.join(", "))
    } else {
        let sets = cols.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect::<Vec<_>>().join(", ");
        format!("UPDATE {table} SET {sets}, version = ${} + 1 WHERE id = ${} AND version = ${}", n + 1, n + 2, n + 1)
    }
}

/// A save by [`save_sql`] wrote its row; none written means someone else changed it.
pub(crate) fn written(done: sqlx::any::AnyQueryResult) -> Result<(), StoreError> {
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// `(…), (…), …`: the VALUES of a multi-row INSERT of `rows` rows of `width` values.
pub(crate) fn values_list(conn: &Conn, rows: usize, width: usize) -> String {
    (0..rows).map(|r| format!("({})", placeholders(conn, r * width + 1, width))).collect::<Vec<_>>().join(", ")
}

/// Arguments with room for `n` values (binding ten thousand values one by one into an
/// empty list moves them around a dozen times).
pub(crate) fn reserved<'q>(n: usize) -> AnyArguments<'q> {
    let mut args = AnyArguments::default();
    args.reserve(n, 0);
    args
}

/// Inserts a new record (its `version` is 1).
pub async fn insert<T: Record>(conn: &mut Conn, row: &T) -> Result<(), StoreError> {
    insert_many(conn, std::slice::from_ref(row)).await
}

/// How many records [`insert_many`] writes with one statement (the database's limit on
/// bound values over the values of a record).
pub fn rows_per_insert<T: Record>(conn: &Conn) -> usize {
    (max_params(conn) / (T::COLUMNS.len() + 1)).max(1)
}

/// Inserts new records (each at `version` 1) with as few statements as the database's
/// limit on bound values allows: one for a thousand or more.
///
/// On SQLite, the tables with a full-text index (see [`SEARCHED`]) are indexed once per
/// call, by one `INSERT … SELECT` of the rows just written, instead of row by row by their
/// trigger (migration 9): four times faster for a large import. It all happens inside a
/// savepoint, so the triggers stand aside only while these rows are written.
pub async fn insert_many<T: Record>(conn: &mut Conn, rows: &[T]) -> Result<(), StoreError> {
    if rows.len() < 2 || !is_sqlite(conn) || !SEARCHED.contains(&T::TABLE) {
        return insert_rows(conn, rows).await;
    }
    let mut sp = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query("UPDATE search_bulk SET active = 1").execute(&mut *sp).await?;
    let last: i64 = sqlx::query_scalar(&format!("SELECT COALESCE(MAX(rowid), 0) FROM {}", T::TABLE)).fetch_one(&mut *sp).await?;
    insert_rows(&mut sp, rows).await?;
    let index = format!("INSERT INTO {0}_fts(rowid, search_text) SELECT rowid, search_text FROM {0} WHERE rowid > $1", T::TABLE);
    sqlx::query(&index).bind(last).execute(&mut *sp).await?;
    sqlx::query("UPDATE search_bulk SET active = 0").execute(&mut *sp).await?;
    sp.commit().await?;
    Ok(())
}

/// The tables with a full-text index of `search_text` on SQLite (migrations 2 and 9).
pub const SEARCHED: [&str; 4] = ["parties", "contacts", "products", "employees"];

async fn insert_rows<T: Record>(conn: &mut Conn, rows: &[T]) -> Result<(), StoreError> {
    let width = T::COLUMNS.len() + 1;
    let cols = T::COLUMNS.join(", ");
    for part in rows.chunks(rows_per_insert::<T>(conn)) {
        let sql = format!("INSERT INTO {} ({cols}, id) VALUES {}", T::TABLE, values_list(conn, part.len(), width));
        // No RETURNING: nothing is read back, the query only binds its rows.
        let mut q = sqlx::query_as_with::<_, (String,), _>(&sql, reserved(part.len() * width));
        for row in part {
            q = row.bind(q).bind(row.id());
        }
        q.fetch_all(&mut *conn).await?;
    }
    Ok(())
}

/// Writes a changed record if nobody changed it since `row.version()` was read.
pub async fn update<T: Record>(conn: &mut Conn, row: &T) -> Result<(), StoreError> {
    let n = T::COLUMNS.len();
    let sets: Vec<String> = T::COLUMNS.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
    let sql = format!(
        "UPDATE {} SET {}, version = version + 1 WHERE id = ${} AND version = ${} RETURNING id",
        T::TABLE,
        sets.join(", "),
        n + 1,
        n + 2
    );
    let done = row.bind(sqlx::query_as::<_, (String,)>(&sql)).bind(row.id()).bind(row.version()).fetch_optional(conn).await?;
    done.map(|_| ()).ok_or(StoreError::Conflict)
}

/// The record whose unique `column` (a fixed name, never user text) has this value.
pub async fn find_by<T: Record>(conn: &mut Conn, column: &'static str, value: &str) -> Result<Option<T>, StoreError> {
    let sql = format!("SELECT * FROM {} WHERE {column} = $1", T::TABLE);
    Ok(sqlx::query_as::<_, T>(&sql).bind(value).fetch_optional(conn).await?)
}

/// The records whose unique `column` (a fixed name, never user text) has one of `values`.
/// PostgreSQL is asked about at most 100 values at a time, with a plan made for each query
/// (not kept): with more values, or with a plan made while the table was small, its
/// planner reads the whole table instead of probing the index, which made a 100,000-row
/// import spend most of its time in such reads.
pub async fn find_many<T: Record>(conn: &mut Conn, column: &'static str, values: &[String]) -> Result<Vec<T>, StoreError> {
    let per_query = if is_sqlite(conn) { max_params(conn) } else { 100 };
    let mut out = Vec::new();
    for part in values.chunks(per_query) {
        let sql = format!("SELECT * FROM {} WHERE {column} IN ({})", T::TABLE, placeholders(conn, 1, part.len()));
        let mut q = sqlx::query_as::<_, T>(&sql).persistent(is_sqlite(conn));
        for v in part {
            q = q.bind(v);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

pub async fn get<T: Record>(conn: &mut Conn, id: &str) -> Result<Option<T>, StoreError> {
    let sql = format!("SELECT * FROM {} WHERE id = $1", T::TABLE);
    Ok(sqlx::query_as::<_, T>(&sql).bind(id).fetch_optional(conn).await?)
}

/// What a list asks for. `words` are folded search words (every one must match);
/// `filter` is a fixed SQL condition chosen by the caller, never user text.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub words: Vec<String>,
    pub filter: Option<&'static str>,
    pub filter_value: Option<String>,
    pub include_archived: bool,
    /// Keyset cursor: the `(name_norm, id)` of the last row of the previous page.
    pub after: Option<(String, String)>,
    pub limit: i64,
}

/// Escapes `%`, `_` and `\` so that user text is matched literally by `LIKE … ESCAPE '\'`.
pub fn like_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Below this many full-text matches a search fetches them all and sorts; above, it walks
/// the name index.
const FEW_MATCHES: i64 = 2000;

/// One page of records sorted by name; returns one row more than `limit` when there is a
/// next page, so the caller knows without counting.
pub async fn list<T: Record>(conn: &mut Conn, q: &ListQuery) -> Result<Vec<T>, StoreError> {
    let mut conds: Vec<String> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    if let Some(f) = q.filter {
        conds.push(f.replace("$?", &format!("${}", params.len() + 1)));
        if let Some(v) = &q.filter_value {
            params.push(v.clone());
        }
    }
    if !q.include_archived {
        conds.push("archived_at IS NULL".into());
    }
    let sqlite = conn.backend_name().eq_ignore_ascii_case("sqlite");
    // On SQLite, words of three or more characters go to the FTS5 trigram index as one
    // expression ("a" AND "b"); shorter ones (and every word on PostgreSQL, where the
    // trigram GIN index serves LIKE) are matched with LIKE.
    let (fts_words, like_words): (Vec<&String>, Vec<&String>) = q.words.iter().partition(|w| sqlite && w.chars().count() >= 3);
    let mut drive_by_matches = false;
    if !fts_words.is_empty() {
        let expr = fts_words.iter().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" AND ");
        // Few matches: fetch them and sort (the `+` stops SQLite from walking the name
        // index instead, which would read the whole table to find rare rows). Many
        // matches: walking the name index finds the first page early.
        let probe =
            format!("SELECT COUNT(*) FROM (SELECT rowid FROM {}_fts WHERE {}_fts MATCH $1 LIMIT {FEW_MATCHES})", T::TABLE, T::TABLE);
        let found: i64 = sqlx::query_scalar(&probe).bind(&expr).fetch_one(&mut *conn).await?;
        drive_by_matches = found < FEW_MATCHES;
        params.push(expr);
        conds.push(format!("rowid IN (SELECT rowid FROM {}_fts WHERE {}_fts MATCH ${})", T::TABLE, T::TABLE, params.len()));
    }
    for w in like_words {
        params.push(like_pattern(w));
        conds.push(format!("search_text LIKE ${} ESCAPE '\\'", params.len()));
    }
    if let Some((name, id)) = &q.after {
        params.push(name.clone());
        params.push(id.clone());
        let (a, b) = (params.len() - 1, params.len());
        conds.push(format!("(name_norm > ${a} OR (name_norm = ${a} AND id > ${b}))"));
    }
    let where_ = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    let order = if drive_by_matches { "+name_norm, id" } else { "name_norm, id" };
    let sql = format!("SELECT * FROM {} {where_} ORDER BY {order} LIMIT ${}", T::TABLE, params.len() + 1);
    let mut query = sqlx::query_as::<_, T>(&sql);
    for p in &params {
        query = query.bind(p);
    }
    Ok(query.bind(q.limit + 1).fetch_all(conn).await?)
}

/// Whether some other row refers to this one (then it is archived, never deleted).
pub async fn count_where(conn: &mut Conn, table: &str, column: &str, id: &str) -> Result<i64, StoreError> {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
    Ok(sqlx::query_scalar::<_, i64>(&sql).bind(id).fetch_one(conn).await?)
}

/// Whether a table has any row at all (cheap on any size).
pub async fn any_rows(conn: &mut Conn, table: &'static str) -> Result<bool, StoreError> {
    let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1) t");
    Ok(sqlx::query_scalar::<_, i64>(&sql).fetch_one(conn).await? > 0)
}

#[derive(Debug, Clone, FromRow)]
pub struct PartyRow {
    pub id: String,
    pub code: Option<String>,
    pub is_customer: i64,
    pub is_supplier: i64,
    pub name: String,
    pub name_norm: String,
    pub trade_name: Option<String>,
    pub tax_scheme: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub website: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub payment_terms_days: i64,
    pub credit_limit: Option<i64>,
    pub salesperson_id: Option<String>,
    pub notes: Option<String>,
    pub tags: String,
    pub lifecycle: String,
    pub tier: Option<String>,
    pub search_text: String,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl Record for PartyRow {
    const TABLE: &'static str = "parties";
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "is_customer",
        "is_supplier",
        "name",
        "name_norm",
        "trade_name",
        "tax_scheme",
        "tax_id",
        "email",
        "phone",
        "mobile",
        "website",
        "street",
        "city",
        "region",
        "postal_code",
        "country",
        "payment_terms_days",
        "credit_limit",
        "salesperson_id",
        "notes",
        "tags",
        "lifecycle",
        "tier",
        "search_text",
        "archived_at",
        "created_at",
        "updated_at",
    ];
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn bind<'q, R>(&'q self, q: Q<'q, R>) -> Q<'q, R> {
        binds!(
            q,
            self,
            code,
            is_customer,
            is_supplier,
            name,
            name_norm,
            trade_name,
            tax_scheme,
            tax_id,
            email,
            phone,
            mobile,
            website,
            street,
            city,
            region,
            postal_code,
            country,
            payment_terms_days,
            credit_limit,
            salesperson_id,
            notes,
            tags,
            lifecycle,
            tier,
            search_text,
            archived_at,
            created_at,
            updated_at
        )
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct ContactRow {
    pub id: String,
    pub party_id: String,
    pub name: String,
    pub name_norm: String,
    pub job_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub notes: Option<String>,
    pub search_text: String,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl Record for ContactRow {
    const TABLE: &'static str = "contacts";
    const COLUMNS: &'static [&'static str] = &[
        "party_id",
        "name",
        "name_norm",
        "job_title",
        "email",
        "phone",
        "mobile",
        "notes",
        "search_text",
        "archived_at",
        "created_at",
        "updated_at",
    ];
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn bind<'q, R>(&'q self, q: Q<'q, R>) -> Q<'q, R> {
        binds!(q, self, party_id, name, name_norm, job_title, email, phone, mobile, notes, search_text, archived_at, created_at, updated_at)
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct EmployeeRow {
    pub id: String,
    pub code: Option<String>,
    pub name: String,
    pub name_norm: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub is_salesperson: i64,
    pub commission_pct: i64,
    pub user_id: Option<String>,
    pub search_text: String,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl Record for EmployeeRow {
    const TABLE: &'static str = "employees";
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "name_norm",
        "email",
        "phone",
        "is_salesperson",
        "commission_pct",
        "user_id",
        "search_text",
        "archived_at",
        "created_at",
        "updated_at",
    ];
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn bind<'q, R>(&'q self, q: Q<'q, R>) -> Q<'q, R> {
        binds!(
            q,
            self,
            code,
            name,
            name_norm,
            email,
            phone,
            is_salesperson,
            commission_pct,
            user_id,
            search_text,
            archived_at,
            created_at,
            updated_at
        )
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct TaxRateRow {
    pub id: String,
    pub name: String,
    pub rate: i64,
    pub exempt: i64,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl Record for TaxRateRow {
    const TABLE: &'static str = "tax_rates";
    const COLUMNS: &'static [&'static str] = &["name", "rate", "exempt", "archived_at", "created_at", "updated_at"];
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn bind<'q, R>(&'q self, q: Q<'q, R>) -> Q<'q, R> {
        binds!(q, self, name, rate, exempt, archived_at, created_at, updated_at)
    }
}

pub async fn list_tax_rates(conn: &mut Conn, include_archived: bool) -> Result<Vec<TaxRateRow>, StoreError> {
    let sql = if include_archived {
        "SELECT * FROM tax_rates ORDER BY rate DESC, name"
    } else {
        "SELECT * FROM tax_rates WHERE archived_at IS NULL ORDER BY rate DESC, name"
    };
    Ok(sqlx::query_as(sql).fetch_all(conn).await?)
}

#[derive(Debug, Clone, FromRow)]
pub struct ProductRow {
    pub id: String,
    pub code: String,
    pub barcode: Option<String>,
    pub name: String,
    pub name_norm: String,
    pub description: Option<String>,
    pub kind: String,
    pub unit: String,
    pub sale_price: i64,
    pub cost: i64,
    pub tax_rate_id: Option<String>,
    pub category: Option<String>,
    pub search_text: String,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl Record for ProductRow {
    const TABLE: &'static str = "products";
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "barcode",
        "name",
        "name_norm",
        "description",
        "kind",
        "unit",
        "sale_price",
        "cost",
        "tax_rate_id",
        "category",
        "search_text",
        "archived_at",
        "created_at",
        "updated_at",
    ];
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn bind<'q, R>(&'q self, q: Q<'q, R>) -> Q<'q, R> {
        binds!(
            q,
            self,
            code,
            barcode,
            name,
            name_norm,
            description,
            kind,
            unit,
            sale_price,
            cost,
            tax_rate_id,
            category,
            search_text,
            archived_at,
            created_at,
            updated_at
        )
    }
}

/// The business itself: one row, id 1.
#[derive(Debug, Clone, FromRow, Default)]
pub struct CompanyRow {
    pub id: i64,
    pub legal_name: String,
    pub trade_name: Option<String>,
    pub tax_scheme: String,
    pub tax_id: Option<String>,
    pub country: String,
    pub currency: String,
    pub currency_decimals: i64,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub logo_path: Option<String>,
    pub history: Option<String>,
    pub mission: Option<String>,
    pub vision: Option<String>,
    pub goals: Option<String>,
    pub products_text: Option<String>,
    pub services_text: Option<String>,
    pub guarantees: Option<String>,
    pub partners: Option<String>,
    pub suppliers_text: Option<String>,
    pub clients_text: Option<String>,
    pub updated_at: String,
}

pub async fn get_company(conn: &mut Conn) -> Result<Option<CompanyRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM company WHERE id = 1").fetch_optional(conn).await?)
}

/// Inserts or replaces the company's one row.
pub async fn save_company(conn: &mut Conn, c: &CompanyRow) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM company WHERE id = 1").execute(&mut *conn).await?;
    let q = sqlx::query(
        "INSERT INTO company (id, legal_name, trade_name, tax_scheme, tax_id, country, currency, currency_decimals, street, city, \
         region, postal_code, phone, email, website, logo_path, history, mission, vision, goals, products_text, services_text, \
         guarantees, partners, suppliers_text, clients_text, updated_at) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
    );
    binds!(
        q,
        c,
        legal_name,
        trade_name,
        tax_scheme,
        tax_id,
        country,
        currency,
        currency_decimals,
        street,
        city,
        region,
        postal_code,
        phone,
        email,
        website,
        logo_path,
        history,
        mission,
        vision,
        goals,
        products_text,
        services_text,
        guarantees,
        partners,
        suppliers_text,
        clients_text,
        updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
