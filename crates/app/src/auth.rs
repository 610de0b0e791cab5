//! People and security: users, passwords (Argon2id), sessions, API tokens, the one-time
//! setup link for the first administrator, and log-in throttling.

use crate::{audit, clock, new_id, Actor, App, AppError, AppResult};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use domain::access::{Action, Resource, Role};
use domain::validation::{self as v, FieldErrors};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::people::{self, SessionRow, ThrottleRow, TokenRow, UserRow};

const SESSION_DAYS: i64 = 14;
/// After this many failed log-ins for one user name within the window, the name is
/// locked for the same window.
pub const MAX_FAILURES: i64 = 5;
const WINDOW_MINUTES: i64 = 15;

/// A random secret, URL-safe, 256 bits.
pub fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Secrets are stored only as their SHA-256.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| AppError::Internal(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// administrator, manager, salesperson, billing, purchasing, warehouse, production,
    /// front_office, back_office or marketing.
    #[schema(value_type = String)]
    pub role: Role,
    pub locale: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&UserRow> for User {
    fn from(u: &UserRow) -> Self {
        User {
            id: u.id.clone(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            role: Role::from_code(&u.role).unwrap_or(Role::Marketing),
            locale: u.locale.clone(),
            active: u.active != 0,
            created_at: u.created_at.clone(),
            updated_at: u.updated_at.clone(),
        }
    }
}

fn actor_of(u: &UserRow) -> Actor {
    Actor {
        user_id: Some(u.id.clone()),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        // An unknown role in the database gets the least: nothing but reading the company.
        role: Role::from_code(&u.role).unwrap_or(Role::Production),
        locale: u.locale.clone(),
    }
}

/// What is typed to create or change a user.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub role: Option<String>,
    pub locale: Option<String>,
    pub active: Option<bool>,
}

fn check_password(e: &mut FieldErrors, password: &str) {
    if password.chars().count() < 10 {
        e.add("password", "password-too-short");
    } else if password.len() > 256 {
        e.add("password", "field-too-long");
    }
}

fn check_locale(e: &mut FieldErrors, locale: Option<&str>) -> Option<String> {
    let l = locale.map(str::trim).filter(|l| !l.is_empty())?;
    if l == "es" || l == "en" {
        Some(l.to_string())
    } else {
        e.add("locale", "locale-invalid");
        None
    }
}

fn new_user_row(input: &UserInput) -> AppResult<UserRow> {
    let mut e = FieldErrors::new();
    let username = v::required(&mut e, "username", input.username.as_deref(), 64).to_lowercase();
    if !username.is_empty() && !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c)) {
        e.add("username", "username-invalid");
    }
    let display_name = v::optional(&mut e, "display_name", input.display_name.as_deref(), 100).unwrap_or_else(|| username.clone());
    let email = v::email(&mut e, "email", input.email.as_deref());
    let password = input.password.clone().unwrap_or_default();
    check_password(&mut e, &password);
    let role = match input.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => {
            e.add("role", "field-required");
            Role::Marketing
        }
        Some(r) => Role::from_code(r).unwrap_or_else(|| {
            e.add("role", "role-invalid");
            Role::Marketing
        }),
    };
    let locale = check_locale(&mut e, input.locale.as_deref()).unwrap_or_else(|| "es".into());
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let now = clock::now_text();
    Ok(UserRow {
        id: new_id(),
        username,
        display_name,
        email,
        password_hash: hash_password(&password)?,
        role: role.code().to_string(),
        locale,
        active: i64::from(input.active.unwrap_or(true)),
        created_at: now.clone(),
        updated_at: now,
    })
}

/// Creates a user (administrators only).
pub async fn create_user(app: &App, actor: &Actor, input: &UserInput) -> AppResult<User> {
    actor.authorize(Action::Create, Resource::Users)?;
    let row = new_user_row(input)?;
    let mut tx = app.db.begin().await?;
    people::insert_user(&mut tx, &row).await?;
    let user = User::from(&row);
    audit::record(&mut tx, actor, "create", "user", &row.id, None::<&User>, Some(&user)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(user)
}

pub async fn list_users(app: &App, actor: &Actor) -> AppResult<Vec<User>> {
    actor.authorize(Action::Read, Resource::Users)?;
    let mut conn = app.db.reader().await?;
    Ok(people::list_users(&mut conn).await?.iter().map(User::from).collect())
}

pub async fn get_user(app: &App, actor: &Actor, id: &str) -> AppResult<User> {
    actor.authorize(Action::Read, Resource::Users)?;
    let mut conn = app.db.reader().await?;
    people::user_by_id(&mut conn, id).await?.as_ref().map(User::from).ok_or(AppError::NotFound)
}

/// Changes a user; a new password or deactivation ends their sessions.
pub async fn update_user(app: &App, actor: &Actor, id: &str, input: &UserInput) -> AppResult<User> {
    actor.authorize(Action::Update, Resource::Users)?;
    let mut tx = app.db.begin().await?;
    let mut row = people::user_by_id(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let before = User::from(&row);
    let mut e = FieldErrors::new();
    if input.username.as_deref().is_some_and(|u| u.trim().to_lowercase() != row.username) {
        e.add("username", "username-immutable");
    }
    if let Some(d) = &input.display_name {
        row.display_name = v::required(&mut e, "display_name", Some(d), 100);
    }
    if input.email.is_some() {
        row.email = v::email(&mut e, "email", input.email.as_deref());
    }
    let mut end_sessions = false;
    if let Some(p) = &input.password {
        check_password(&mut e, p);
        if e.is_empty() {
            row.password_hash = hash_password(p)?;
            end_sessions = true;
        }
    }
    if let Some(r) = &input.role {
        match Role::from_code(r) {
            Some(role) => row.role = role.code().to_string(),
            None => e.add("role", "role-invalid"),
        }
    }
    if let Some(l) = check_locale(&mut e, input.locale.as_deref()) {
        row.locale = l;
    }
    if let Some(a) = input.active {
        if !a && actor.user_id.as_deref() == Some(id) {
            e.add("active", "cannot-deactivate-self");
        }
        end_sessions |= !a;
        row.active = i64::from(a);
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    row.updated_at = clock::now_text();
    people::update_user(&mut tx, &row).await?;
    if end_sessions {
        people::delete_user_sessions(&mut tx, id).await?;
    }
    let after = User::from(&row);
    audit::record(&mut tx, actor, "update", "user", id, Some(&before), Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

/// Whether the first administrator still has to be created.
pub async fn needs_setup(app: &App) -> AppResult<bool> {
    let mut conn = app.db.reader().await?;
    Ok(people::count_users(&mut conn).await? == 0)
}

/// Makes a new one-time setup secret (replacing any earlier one) and returns it; only
/// while no user exists.
pub async fn issue_setup_token(app: &App) -> AppResult<Option<String>> {
    let mut tx = app.db.begin().await?;
    if people::count_users(&mut tx).await? > 0 {
        return Ok(None);
    }
    let token = secret();
    people::replace_setup_token(&mut tx, &digest(&token), &clock::now_text()).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(Some(token))
}

pub async fn setup_token_valid(app: &App, token: &str) -> AppResult<bool> {
    let mut conn = app.db.reader().await?;
    Ok(people::count_users(&mut conn).await? == 0 && people::setup_token_exists(&mut conn, &digest(token)).await?)
}

/// Creates the first administrator with the setup secret, which is then spent.
pub async fn complete_setup(app: &App, token: &str, input: &UserInput) -> AppResult<User> {
    let mut input = input.clone();
    input.role = Some(Role::Administrator.code().into());
    let row = new_user_row(&input)?;
    let mut tx = app.db.begin().await?;
    if people::count_users(&mut tx).await? > 0 || !people::take_setup_token(&mut tx, &digest(token)).await? {
        return Err(AppError::Refused("setup-link-invalid"));
    }
    people::insert_user(&mut tx, &row).await?;
    let user = User::from(&row);
    let actor = actor_of(&row);
    audit::record(&mut tx, &actor, "create", "user", &row.id, None::<&User>, Some(&user)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(user)
}

/// A logged-in session: the cookie's secret and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub secret: String,
    pub csrf: String,
    pub actor: Actor,
}

/// Checks a user name and password. Throttled per user name: after `MAX_FAILURES`
/// failures in the window, even the right password is refused until the window ends, so
/// guessing gains nothing.
pub async fn login(app: &App, username: &str, password: &str) -> AppResult<Session> {
    let username = username.trim().to_lowercase();
    let key = format!("user:{username}");
    let now = clock::now();
    let now_text = clock::text(now);
    let mut tx = app.db.begin().await?;
    let throttle = people::throttle_get(&mut tx, &key).await?;
    if let Some(until) = throttle.as_ref().and_then(|t| t.locked_until.as_deref()) {
        if until > now_text.as_str() {
            return Err(AppError::Throttled);
        }
    }
    let user = people::user_by_name(&mut tx, &username).await?.filter(|u| u.active != 0);
    let ok = match &user {
        Some(u) => verify_password(password, &u.password_hash),
        None => {
            // Spend the same time as a real check, so timing does not reveal user names.
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
            let _ = verify_password(password, dummy);
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        let window_open = throttle
            .as_ref()
            .and_then(|t| clock::parse(&t.window_start))
            .is_some_and(|start| now - start < time::Duration::minutes(WINDOW_MINUTES));
        let failures = if window_open { throttle.as_ref().map_or(0, |t| t.failures) + 1 } else { 1 };
        let window_start =
            if window_open { throttle.map(|t| t.window_start).unwrap_or_else(|| now_text.clone()) } else { now_text.clone() };
        let locked_until = (failures >= MAX_FAILURES).then(|| clock::text(now + time::Duration::minutes(WINDOW_MINUTES)));
        people::throttle_put(&mut tx, &ThrottleRow { key, failures, window_start, locked_until }).await?;
        tx.commit().await.map_err(store::StoreError::from)?;
        return Err(AppError::Unauthenticated);
    };
    people::throttle_clear(&mut tx, &key).await?;
    let session = Session { secret: secret(), csrf: secret(), actor: actor_of(&user) };
    people::insert_session(
        &mut tx,
        &SessionRow {
            token_hash: digest(&session.secret),
            user_id: user.id.clone(),
            csrf: session.csrf.clone(),
            created_at: now_text,
            expires_at: clock::text(now + time::Duration::days(SESSION_DAYS)),
        },
    )
    .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(session)
}

pub async fn session(app: &App, secret: &str) -> AppResult<Option<Session>> {
    let mut conn = app.db.reader().await?;
    let found = people::session_user(&mut conn, &digest(secret), &clock::now_text()).await?;
    Ok(found.map(|(s, u)| Session { secret: secret.to_string(), csrf: s.csrf, actor: actor_of(&u) }))
}

pub async fn logout(app: &App, secret: &str) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    people::delete_session(&mut tx, &digest(secret)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

/// The user behind an API token.
pub async fn token_actor(app: &App, token: &str) -> AppResult<Option<Actor>> {
    let mut conn = app.db.reader().await?;
    Ok(people::token_user(&mut conn, &digest(token)).await?.map(|(_, u)| actor_of(&u)))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub username: String,
    pub name: String,
    /// The first characters of the token, to recognise it; the token itself is shown once.
    pub prefix: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Creates an API token for a user; returns it once (only its hash is kept).
pub async fn new_token(app: &App, actor: &Actor, username: &str, name: &str) -> AppResult<(ApiToken, String)> {
    actor.authorize(Action::Create, Resource::ApiTokens)?;
    let mut tx = app.db.begin().await?;
    let user = people::user_by_name(&mut tx, &username.trim().to_lowercase())
        .await?
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("username", "user-unknown")))?;
    let token = format!("tdr_{}", secret());
    let row = TokenRow {
        id: new_id(),
        user_id: user.id.clone(),
        name: name.trim().chars().take(100).collect(),
        prefix: token.chars().take(12).collect(),
        token_hash: digest(&token),
        created_at: clock::now_text(),
        last_used_at: None,
        revoked_at: None,
    };
    people::insert_token(&mut tx, &row).await?;
    let out = ApiToken {
        id: row.id.clone(),
        username: user.username,
        name: row.name,
        prefix: row.prefix,
        created_at: row.created_at,
        revoked_at: None,
    };
    audit::record(&mut tx, actor, "create", "api_token", &out.id, None::<&ApiToken>, Some(&out)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok((out, token))
}

pub async fn list_tokens(app: &App, actor: &Actor) -> AppResult<Vec<ApiToken>> {
    actor.authorize(Action::Read, Resource::ApiTokens)?;
    let mut conn = app.db.reader().await?;
    let users = people::list_users(&mut conn).await?;
    let name_of = |id: &str| users.iter().find(|u| u.id == id).map(|u| u.username.clone()).unwrap_or_default();
    Ok(people::list_tokens(&mut conn)
        .await?
        .into_iter()
        .map(|t| ApiToken {
            username: name_of(&t.user_id),
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        })
        .collect())
}

/// Revokes a token by id or by its prefix.
pub async fn revoke_token(app: &App, actor: &Actor, id_or_prefix: &str) -> AppResult<()> {
    actor.authorize(Action::Archive, Resource::ApiTokens)?;
    let mut tx = app.db.begin().await?;
    if !people::revoke_token(&mut tx, id_or_prefix.trim(), &clock::now_text()).await? {
        return Err(AppError::NotFound);
    }
    audit::record(&mut tx, actor, "revoke", "api_token", id_or_prefix.trim(), None::<&()>, None::<&()>).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

/// Any user may choose the language they read Tendero in.
pub async fn set_own_locale(app: &App, actor: &Actor, locale: &str) -> AppResult<()> {
    let mut e = FieldErrors::new();
    let Some(locale) = check_locale(&mut e, Some(locale)) else {
        return Err(AppError::Invalid(if e.is_empty() { FieldErrors::single("locale", "locale-invalid") } else { e }));
    };
    let id = actor.user_id.clone().ok_or(AppError::Forbidden)?;
    let mut tx = app.db.begin().await?;
    let mut row = people::user_by_id(&mut tx, &id).await?.ok_or(AppError::NotFound)?;
    row.locale = locale;
    row.updated_at = clock::now_text();
    people::update_user(&mut tx, &row).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}
