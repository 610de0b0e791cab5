//! The company's logo: a PNG or JPEG of at most 1 MiB, printed on documents.

use crate::{audit, clock, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::validation::FieldErrors;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const MAX_BYTES: usize = 1024 * 1024;

/// What the audit trail records of a logo: its kind, size and fingerprint, not the bytes.
#[derive(Serialize)]
struct LogoFacts {
    content_type: String,
    bytes: usize,
    sha256: String,
}

/// The image type, told by the file's first bytes (never by its name or declared type).
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

pub async fn set(app: &App, actor: &Actor, data: &[u8]) -> AppResult<()> {
    actor.authorize(Action::Update, Resource::Company)?;
    if data.len() > MAX_BYTES {
        return Err(AppError::Invalid(FieldErrors::single("logo", "logo-too-large")));
    }
    let Some(content_type) = sniff(data) else {
        return Err(AppError::Invalid(FieldErrors::single("logo", "logo-not-an-image")));
    };
    let mut tx = app.db.begin().await?;
    let before = store::files::logo(&mut tx).await?.map(|(t, d, _)| facts(&t, &d));
    store::files::save_logo(&mut tx, content_type, data, &clock::now_text()).await?;
    audit::record(&mut tx, actor, "update", "company_logo", "1", before.as_ref(), Some(&facts(content_type, data))).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

pub async fn remove(app: &App, actor: &Actor) -> AppResult<()> {
    actor.authorize(Action::Update, Resource::Company)?;
    let mut tx = app.db.begin().await?;
    let before = store::files::logo(&mut tx).await?.map(|(t, d, _)| facts(&t, &d));
    if store::files::delete_logo(&mut tx).await? {
        audit::record(&mut tx, actor, "update", "company_logo", "1", before.as_ref(), None::<&()>).await?;
    }
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

/// The logo's content type and bytes, for anyone who may read the company.
pub async fn get(app: &App, actor: &Actor) -> AppResult<Option<(String, Vec<u8>)>> {
    actor.authorize(Action::Read, Resource::Company)?;
    let mut conn = app.db.reader().await?;
    Ok(store::files::logo(&mut conn).await?.map(|(t, d, _)| (t, d)))
}

fn facts(content_type: &str, data: &[u8]) -> LogoFacts {
    LogoFacts { content_type: content_type.to_string(), bytes: data.len(), sha256: hex::encode(Sha256::digest(data)) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn images_are_told_by_their_bytes() {
        assert_eq!(super::sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(super::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(super::sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(super::sniff(b"GIF89a"), None);
    }
}
