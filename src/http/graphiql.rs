//! GraphiQL, served entirely from the binary: the page at `GET /graphql` and
//! its assets under `/graphiql/<version>/`, so it works without internet access.
//!
//! The assets are production builds of React, ReactDOM and GraphiQL, pinned and recorded
//! in `assets/graphiql/` (versions, licenses, SHA-256 checksums; `update.sh` refreshes
//! them). The page's Content-Security-Policy allows nothing from elsewhere and no inline
//! script; its only connection is to this gateway.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The GraphiQL release embedded (also the asset URLs' version segment, so they can be
/// cached for good).
pub(super) const GRAPHIQL_VERSION: &str = "4.1.2";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// `(file name, content type, bytes)` of every embedded asset.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/init.js"),
    ),
];

/// The GraphiQL page.
pub(super) fn page() -> Response {
    let v = GRAPHIQL_VERSION;
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>switchboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/graphiql/{v}/graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading…</div>
<script src="/graphiql/{v}/react.production.min.js"></script>
<script src="/graphiql/{v}/react-dom.production.min.js"></script>
<script src="/graphiql/{v}/graphiql.min.js"></script>
<script src="/graphiql/{v}/init.js"></script>
</body>
</html>
"#
    );
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /graphiql/{version}/{file}`: an embedded asset, cacheable for good (the version
/// is in the URL).
pub(super) async fn asset(Path((version, file)): Path<(String, String)>) -> Response {
    let found = ASSETS.iter().find(|(name, _, _)| *name == file);
    match (version == GRAPHIQL_VERSION, found) {
        (true, Some((_, content_type, bytes))) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *bytes,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn embedded_assets_match_their_recorded_checksums() {
        let sums = include_str!("../../assets/graphiql/SHA256SUMS");
        for (name, _, bytes) in ASSETS {
            let line = sums
                .lines()
                .find(|l| l.ends_with(&format!("  {name}")))
                .unwrap_or_else(|| panic!("{name} has a recorded checksum"));
            assert_eq!(&line[..64], hex::encode(Sha256::digest(bytes)), "{name}");
        }
        assert!(include_str!("../../assets/graphiql/VERSIONS").contains(&format!("graphiql {GRAPHIQL_VERSION}")));
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        let response = page();
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("http"), "{csp}");
    }
}
