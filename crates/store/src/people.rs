//! Users, sessions, API tokens, the first-run setup token and log-in throttling.
//! Secrets are never stored: only their SHA-256 (computed by the caller).

use crate::{Conn, StoreError};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub locale: String,
    pub active: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub async fn count_users(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(conn).await?)
}

pub async fn insert_user(conn: &mut Conn, u: &UserRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, username, display_name, email, password_hash, role, locale, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&u.id)
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(&u.email)
    .bind(&u.password_hash)
    .bind(&u.role)
    .bind(&u.locale)
    .bind(u.active)
    .bind(&u.created_at)
    .bind(&u.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_user(conn: &mut Conn, u: &UserRow) -> Result<(), StoreError> {
    let r = sqlx::query(
        "UPDATE users SET display_name = $1, email = $2, password_hash = $3, role = $4, locale = $5, active = $6, updated_at = $7 \
         WHERE id = $8",
    )
    .bind(&u.display_name)
    .bind(&u.email)
    .bind(&u.password_hash)
    .bind(&u.role)
    .bind(&u.locale)
    .bind(u.active)
    .bind(&u.updated_at)
    .bind(&u.id)
    .execute(conn)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn user_by_name(conn: &mut Conn, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM users WHERE username = $1").bind(username).fetch_optional(conn).await?)
}

pub async fn user_by_id(conn: &mut Conn, id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM users WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn list_users(conn: &mut Conn) -> Result<Vec<UserRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM users ORDER BY username").fetch_all(conn).await?)
}

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub csrf: String,
    pub created_at: String,
    pub expires_at: String,
}

pub async fn insert_session(conn: &mut Conn, s: &SessionRow) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&s.token_hash)
        .bind(&s.user_id)
        .bind(&s.csrf)
        .bind(&s.created_at)
        .bind(&s.expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The live session with this token and its user, if the user is still active.
pub async fn session_user(conn: &mut Conn, token_hash: &str, now: &str) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
    let Some(s) = sqlx::query_as::<_, SessionRow>("SELECT * FROM sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let u = user_by_id(conn, &s.user_id).await?;
    Ok(u.filter(|u| u.active != 0).map(|u| (s, u)))
}

pub async fn delete_session(conn: &mut Conn, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(conn).await?;
    Ok(())
}

pub async fn delete_user_sessions(conn: &mut Conn, user_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(conn).await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prefix: String,
    pub token_hash: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

pub async fn insert_token(conn: &mut Conn, t: &TokenRow) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&t.id)
        .bind(&t.user_id)
        .bind(&t.name)
        .bind(&t.prefix)
        .bind(&t.token_hash)
        .bind(&t.created_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The user behind a live (not revoked) token.
pub async fn token_user(conn: &mut Conn, token_hash: &str) -> Result<Option<(TokenRow, UserRow)>, StoreError> {
    let Some(t) = sqlx::query_as::<_, TokenRow>("SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let u = user_by_id(conn, &t.user_id).await?;
    Ok(u.filter(|u| u.active != 0).map(|u| (t, u)))
}

pub async fn list_tokens(conn: &mut Conn) -> Result<Vec<TokenRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM api_tokens ORDER BY created_at").fetch_all(conn).await?)
}

pub async fn revoke_token(conn: &mut Conn, id_or_prefix: &str, now: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE (id = $2 OR prefix = $2) AND revoked_at IS NULL")
        .bind(now)
        .bind(id_or_prefix)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn replace_setup_token(conn: &mut Conn, token_hash: &str, now: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM setup_tokens").execute(&mut *conn).await?;
    sqlx::query("INSERT INTO setup_tokens (token_hash, created_at) VALUES ($1, $2)").bind(token_hash).bind(now).execute(conn).await?;
    Ok(())
}

/// Consumes the setup token: true when it was the pending one.
pub async fn take_setup_token(conn: &mut Conn, token_hash: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1").bind(token_hash).execute(conn).await?;
    Ok(r.rows_affected() > 0)
}

pub async fn setup_token_exists(conn: &mut Conn, token_hash: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1").bind(token_hash).fetch_one(conn).await?;
    Ok(n > 0)
}

#[derive(Debug, Clone, FromRow)]
pub struct ThrottleRow {
    pub key: String,
    pub failures: i64,
    pub window_start: String,
    pub locked_until: Option<String>,
}

pub async fn throttle_get(conn: &mut Conn, key: &str) -> Result<Option<ThrottleRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM login_throttle WHERE key = $1").bind(key).fetch_optional(conn).await?)
}

pub async fn throttle_put(conn: &mut Conn, t: &ThrottleRow) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(&t.key).execute(&mut *conn).await?;
    sqlx::query("INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, $2, $3, $4)")
        .bind(&t.key)
        .bind(t.failures)
        .bind(&t.window_start)
        .bind(&t.locked_until)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn throttle_clear(conn: &mut Conn, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(key).execute(conn).await?;
    Ok(())
}
