//! Binary content kept in the database (the company's logo).

use crate::{Conn, StoreError};

pub async fn save_logo(conn: &mut Conn, content_type: &str, data: &[u8], now: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM company_logo WHERE id = 1").execute(&mut *conn).await?;
    sqlx::query("INSERT INTO company_logo (id, content_type, data, updated_at) VALUES (1, $1, $2, $3)")
        .bind(content_type)
        .bind(data.to_vec())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The logo's content type, bytes and time of change.
pub async fn logo(conn: &mut Conn) -> Result<Option<(String, Vec<u8>, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT content_type, data, updated_at FROM company_logo WHERE id = 1").fetch_optional(conn).await?)
}

pub async fn delete_logo(conn: &mut Conn) -> Result<bool, StoreError> {
    Ok(sqlx::query("DELETE FROM company_logo WHERE id = 1").execute(conn).await?.rows_affected() > 0)
}
