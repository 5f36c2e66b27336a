//! Exact money amounts: a decimal plus an ISO 4217 currency, never a float.

use std::str::FromStr;

use rust_decimal::Decimal;

/// An exact amount in a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: &'static str,
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
    fn non_finite_amounts_are_rejected() {
        assert!(Money::from_wire_f64(f64::NAN, "USD").is_err());
        assert!(Money::from_wire_f64(f64::INFINITY, "USD").is_err());
    }
}
