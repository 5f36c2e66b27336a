//! Exact money amounts: a decimal plus an ISO 4217 currency, never a float.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use rust_decimal::Decimal;

/// An exact amount in a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: &'static str,
}

/// As the shared cache stores it: the amount, then the currency's code (read back through
/// `currency`, since a derive cannot make a `&'static str`).
impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.amount, self.currency).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (amount, code) = <(Decimal, std::borrow::Cow<'de, str>)>::deserialize(d)?;
        let currency =
            currency(&code).ok_or_else(|| serde::de::Error::custom(format!("not a currency code: {code:?}")))?;
        Ok(Money { amount, currency })
    }
}

/// Currency codes as `&'static str`, each allocated once. Codes are short ASCII
/// alphanumerics (ISO 4217's three capitals, or an account's configured code), and at most
/// `MAX_CODES` distinct ones are kept, so a stream of odd values (a shared cache entry
/// written by someone else) cannot grow memory without bound.
pub fn currency(code: &str) -> Option<&'static str> {
    const MAX_CODES: usize = 1024;
    static CODES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    if code.is_empty() || code.len() > 8 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mut codes = CODES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = codes.iter().find(|c| **c == code) {
        return Some(known);
    }
    if codes.len() >= MAX_CODES {
        return None;
    }
    let interned: &'static str = Box::leak(code.into());
    codes.push(interned);
    Some(interned)
}

/// A provider number that cannot be an amount of money.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("not a finite money amount: {0}")]
pub struct MoneyError(pub f64);

impl Money {
    pub fn new(amount: Decimal, currency: &'static str) -> Self {
        Money { amount, currency }
    }

    /// Converts a JSON number that a provider documents as a decimal amount.
    ///
    /// The float is rendered with its shortest round-trip representation first, so
    /// `0.01` from the wire becomes exactly `0.01`, not `0.01000000000000000020816681711721685`.
    pub fn from_wire_f64(value: f64, currency: &'static str) -> Result<Self, MoneyError> {
        if !value.is_finite() {
            return Err(MoneyError(value));
        }
        let amount = Decimal::from_str(&value.to_string())
            .or_else(|_| Decimal::from_scientific(&format!("{value:e}")))
            .map_err(|_| MoneyError(value))?;
        Ok(Money::new(amount.normalize(), currency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_floats_become_exact_decimals() {
        let m = Money::from_wire_f64(0.01, "USD").unwrap();
        assert_eq!(m.amount.to_string(), "0.01");
        assert_eq!(Money::from_wire_f64(0.005, "USD").unwrap().amount.to_string(), "0.005");
        assert_eq!(Money::from_wire_f64(12.0, "USD").unwrap().amount.to_string(), "12");
        assert_eq!(
            Money::from_wire_f64(1e-7, "USD").unwrap().amount.to_string(),
            "0.0000001"
        );
    }

    #[test]
    fn currency_codes_are_interned_once_and_odd_ones_refused() {
        let usd = currency("USD").unwrap();
        assert!(std::ptr::eq(usd, currency(&String::from("USD")).unwrap()));
        assert_eq!(currency("RUR"), Some("RUR"));
        assert_eq!(currency(""), None);
        assert_eq!(currency("US D"), None);
        assert_eq!(currency("ABCDEFGHIJ"), None);
    }

    #[test]
    fn non_finite_amounts_are_rejected() {
        assert!(Money::from_wire_f64(f64::NAN, "USD").is_err());
        assert!(Money::from_wire_f64(f64::INFINITY, "USD").is_err());
    }
}
