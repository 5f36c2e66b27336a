//! JSON numbers read exactly, from their text: the providers' amounts of money.
//!
//! serde reads a JSON number into an `f64` by default, and `25043790.512862742` becomes
//! `25043790.512862746` on the way. `ExactNumber` takes the number's own text (a
//! `RawValue`) and parses it as a decimal, so no float is ever involved.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

/// A JSON number (or a numeric string) as an exact decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExactNumber(pub Decimal);

impl<'de> Deserialize<'de> for ExactNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let text = raw.get().trim();
        let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
        parse(text)
            .map(ExactNumber)
            .ok_or_else(|| serde::de::Error::custom(format!("not a decimal number: {text}")))
    }
}

/// A decimal in plain (`0.0085`) or scientific (`1e-7`) notation.
pub fn parse(text: &str) -> Option<Decimal> {
    let parsed = match text.contains(['e', 'E']) {
        true => Decimal::from_scientific(text).ok(),
        false => text.parse::<Decimal>().ok(),
    };
    parsed.map(|d| d.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Charge {
        charge: ExactNumber,
        maybe: Option<ExactNumber>,
    }

    #[test]
    fn long_decimals_keep_every_digit() {
        let c: Charge = serde_json::from_str(r#"{"charge": 25043790.512862742, "maybe": null}"#).unwrap();
        assert_eq!(c.charge.0.to_string(), "25043790.512862742");
        assert_eq!(c.maybe, None);
        let c: Charge = serde_json::from_str(r#"{"charge": 1e-7, "maybe": "0.0100"}"#).unwrap();
        assert_eq!(c.charge.0.to_string(), "0.0000001");
        assert_eq!(c.maybe.unwrap().0.to_string(), "0.01");
        assert!(serde_json::from_str::<Charge>(r#"{"charge": true, "maybe": null}"#).is_err());
    }
}
