//! Compression of `/graphql` answers, as the client's `Accept-Encoding` asks.
//!
//! - A kept answer (`responses`) is compressed once per encoding and served compressed
//!   after that (compressing a 4 KB page cost more CPU than serving it from
//!   memory).
//! - Any other answer bigger than `server.compress_min_bytes` (14 KiB) is compressed by
//!   `compress` as it leaves its handler. Below that it fits in TCP's initial congestion
//!   window, so compressing it would cost CPU (more than executing the query) and save no
//!   round trip.
//!
//! `/graphql` does not go through tower-http's compression layer (the other routes do):
//! on a kept answer the layer did nothing useful and still cost about 6 us of CPU per
//! request (parsing `Accept-Encoding`, boxing and wrapping the body), 14% of the
//! gateway's CPU on a by-id lookup.

use std::io::Write;

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;

/// Bodies at or below this are sent as they are (the other routes' layer starts here too).
pub(super) const MIN_BYTES: u16 = 1024;

/// `response` compressed for a client that sent `request` headers, when its body is
/// bigger than `min_bytes` (and `MIN_BYTES`) and the client accepts one of our encodings.
/// Left as they are: a response already encoded, a body of unknown length (a stream), a
/// small body, and a body the encoder fails on.
pub(super) async fn compress(request: &HeaderMap, response: Response, min_bytes: usize) -> Response {
    if response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let min = (min_bytes as u64).max(u64::from(MIN_BYTES));
    match response.body().size_hint().exact() {
        Some(len) if len > min => {}
        _ => return response,
    }
    let Some(encoding) = Encoding::negotiate(request) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    // A body of exact length here is a whole one in memory: reading it does not wait.
    let Ok(plain) = axum::body::to_bytes(body, usize::MAX).await else {
        parts.status = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(compressed) = encoding.compress(&plain) else {
        return Response::from_parts(parts, Body::from(plain));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_ENCODING, encoding.header());
    let varies = parts.headers.get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("accept-encoding")))
    });
    if !varies {
        parts
            .headers
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    Response::from_parts(parts, Body::from(compressed))
}

/// The encodings a kept answer can be sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Zstd,
    Gzip,
}

impl Encoding {
    pub const ALL: [Encoding; 3] = [Encoding::Brotli, Encoding::Zstd, Encoding::Gzip];

    fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
            Encoding::Gzip => "gzip",
        }
    }

    /// The `Content-Encoding` value.
    pub fn header(self) -> header::HeaderValue {
        header::HeaderValue::from_static(self.token())
    }

    /// Position in `ALL`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The encoding the client prefers among ours (highest q-value; on a tie the first
    /// of `ALL`), or `None` for identity.
    pub fn negotiate(headers: &HeaderMap) -> Option<Encoding> {
        let mut best: Option<(u16, Encoding)> = None;
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let token = parts.next().unwrap_or("").trim();
                let Some(encoding) = Encoding::ALL
                    .into_iter()
                    .find(|e| e.token().eq_ignore_ascii_case(token))
                else {
                    continue;
                };
                let q = parts.find_map(|p| parse_q(p.trim())).unwrap_or(1000);
                let better = match best {
                    None => true,
                    Some((bq, be)) => q > bq || (q == bq && encoding.index() < be.index()),
                };
                if q > 0 && better {
                    best = Some((q, encoding));
                }
            }
        }
        best.map(|(_, e)| e)
    }

    /// `body` compressed at a fast level: brotli and zstd at 1; gzip at 2 of zlib-rs (flate2's
    /// `zlib-rs` backend), which on a 20 KB page of `callLogs` was 2.5x faster than
    /// miniz_oxide's level 1 and 8% smaller (zlib-rs's level 1 is 40% larger).
    pub fn compress(self, body: &[u8]) -> std::io::Result<Bytes> {
        let out = match self {
            Encoding::Brotli => {
                let mut out = Vec::with_capacity(body.len() / 3);
                {
                    let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 1, 22);
                    writer.write_all(body)?;
                }
                out
            }
            Encoding::Zstd => zstd_level_1(body)?,
            Encoding::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::new(2));
                encoder.write_all(body)?;
                encoder.finish()?
            }
        };
        Ok(Bytes::from(out))
    }
}

/// `body` as one zstd frame at level 1, through a compression context kept per thread:
/// making a context per answer was half the cost of compressing a 4 KB page (16 us
/// against 7.8 us with the context kept, same bytes).
fn zstd_level_1(body: &[u8]) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static CONTEXT: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    CONTEXT.with(|context| {
        let mut context = context.borrow_mut();
        let compressor = match context.as_mut() {
            Some(compressor) => compressor,
            None => context.insert(zstd::bulk::Compressor::new(1)?),
        };
        compressor.compress(body)
    })
}

/// A q-value (`q=0.5`) in thousandths.
fn parse_q(param: &str) -> Option<u16> {
    let value = param.strip_prefix("q=").or_else(|| param.strip_prefix("Q="))?;
    let q: f32 = value.parse().ok()?;
    (0.0..=1.0).contains(&q).then(|| (q * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_client_preference_wins_and_refused_or_unknown_encodings_are_never_chosen() {
        assert_eq!(Encoding::negotiate(&HeaderMap::new()), None);
        assert_eq!(
            Encoding::negotiate(&accepting("gzip, compress, deflate, br")),
            Some(Encoding::Brotli)
        );
        assert_eq!(
            Encoding::negotiate(&accepting("gzip;q=1, br;q=0.5")),
            Some(Encoding::Gzip)
        );
        assert_eq!(Encoding::negotiate(&accepting("br;q=0, deflate")), None);
        assert_eq!(Encoding::negotiate(&accepting("identity")), None);
        assert_eq!(Encoding::negotiate(&accepting("ZSTD")), Some(Encoding::Zstd));
    }

    fn answer(body: Vec<u8>) -> Response {
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::VARY, "Accept-Encoding, Authorization")
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn a_big_answer_is_compressed_once_and_says_so_and_anything_else_is_left_alone() {
        let big = br#"{"data":{"x":"a repeated string"}}"#.repeat(60);
        let r = compress(&accepting("gzip"), answer(big.clone()), 0).await;
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(
            r.headers().get_all(header::VARY).iter().count(),
            1,
            "Vary named it already"
        );
        let gz = axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, big);

        let plain = Response::new(Body::from(big.clone()));
        let r = compress(&accepting("br"), plain, 0).await;
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");

        let small = compress(&accepting("gzip"), answer(b"{}".to_vec()), 0).await;
        assert!(small.headers().get(header::CONTENT_ENCODING).is_none());
        let under_the_floor = compress(&accepting("gzip"), answer(big.clone()), big.len()).await;
        assert!(under_the_floor.headers().get(header::CONTENT_ENCODING).is_none());
        let over_it = compress(&accepting("gzip"), answer(big.clone()), big.len() - 1).await;
        assert_eq!(over_it.headers()[header::CONTENT_ENCODING], "gzip");
        let refused = compress(&accepting("gzip;q=0"), answer(big.clone()), 0).await;
        assert!(refused.headers().get(header::CONTENT_ENCODING).is_none());
        let stream = Body::from_stream(futures::stream::iter([Ok::<_, std::io::Error>(big.clone())]));
        let r = compress(&accepting("gzip"), Response::new(stream), 0).await;
        assert!(
            r.headers().get(header::CONTENT_ENCODING).is_none(),
            "a stream passes as it is"
        );
        let mut encoded = answer(big.clone());
        encoded
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("zstd"));
        let r = compress(&accepting("gzip"), encoded, 0).await;
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "zstd");
        assert_eq!(axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap(), big);
    }

    #[test]
    fn the_kept_zstd_context_writes_what_a_fresh_one_writes_answer_after_answer() {
        let bodies = [
            &b"{\"data\":{\"a\":1}}"[..],
            &[b'x'; 5000][..],
            b"",
            &b"{\"data\":null}"[..],
        ];
        for body in bodies.iter().chain(bodies.iter()) {
            let kept = Encoding::Zstd.compress(body).unwrap();
            assert_eq!(&kept[..], &zstd::bulk::compress(body, 1).unwrap()[..]);
            assert_eq!(zstd::decode_all(&kept[..]).unwrap(), *body);
        }
    }

    #[test]
    fn each_encoding_round_trips() {
        let body = br#"{"data":{"x":"a repeated string, a repeated string, a repeated string"}}"#.repeat(30);
        let gz = Encoding::Gzip.compress(&body).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, body);
        let br = Encoding::Brotli.compress(&body).unwrap();
        let mut out = Vec::new();
        brotli::Decompressor::new(&br[..], 4096).read_to_end(&mut out).unwrap();
        assert_eq!(out, body);
        let zs = Encoding::Zstd.compress(&body).unwrap();
        assert_eq!(zstd::decode_all(&zs[..]).unwrap(), body);
        assert!(br.len() < body.len() / 3 && gz.len() < body.len() / 3 && zs.len() < body.len() / 3);
    }
}
