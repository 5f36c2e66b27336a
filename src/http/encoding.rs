//! Compression of kept answers (`responses`). The router's compression layer compresses
//! every big answer anew; a kept answer is compressed once per encoding and served
//! compressed after that (issue 16: compressing a 4 KB page cost more CPU than serving it
//! from memory). The layer leaves a response that already has `Content-Encoding` alone.

use std::io::Write;

use axum::http::{HeaderMap, header};
use bytes::Bytes;

/// Bodies at or below this are sent as they are (the layer's threshold too).
pub const MIN_BYTES: u16 = 1024;

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

    /// `body` compressed at the fastest level.
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
            Encoding::Zstd => zstd::bulk::compress(body, 1)?,
            Encoding::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::fast());
                encoder.write_all(body)?;
                encoder.finish()?
            }
        };
        Ok(Bytes::from(out))
    }
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
