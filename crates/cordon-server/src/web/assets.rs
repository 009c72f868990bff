//! The UI's static files, embedded in the binary (no CDN: works on an isolated network) and
//! served as `/assets/<name>.<hash>.<ext>` with a year's immutable cache: the name changes
//! whenever the content does, so a browser never keeps a stale copy. Templates ask for the
//! current name with [`url`].

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    /// `app.css`
    name: &'static str,
    /// `app.1a2b3c4d5e6f.css`
    served_as: String,
    content_type: &'static str,
    bytes: &'static [u8],
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        (
            "app.css",
            "text/css; charset=utf-8",
            &include_bytes!("../../static/app.css")[..],
        ),
        (
            "app.js",
            "text/javascript; charset=utf-8",
            &include_bytes!("../../static/app.js")[..],
        ),
    ]
    .into_iter()
    .map(|(name, content_type, bytes)| {
        let hash = hex::encode(&Sha256::digest(bytes)[..6]);
        let (stem, ext) = name.rsplit_once('.').expect("asset names have an extension");
        Asset {
            name,
            served_as: format!("{stem}.{hash}.{ext}"),
            content_type,
            bytes,
        }
    })
    .collect()
});

/// The address of the asset `name` (`app.css` → `/assets/app.1a2b3c4d5e6f.css`).
pub fn url(name: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| format!("/assets/{}", a.served_as))
        .unwrap_or_else(|| format!("/assets/{name}"))
}

/// `GET /assets/{file}`: only the current hashed names exist.
pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.served_as == file) {
        Some(a) => (
            [
                (CONTENT_TYPE, HeaderValue::from_static(a.content_type)),
                (
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            a.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
