//! Masked values: what a caller without a field's scope sees in its place.
//!
//! A phone number keeps its first three and last two characters and every other digit
//! becomes `•` (`+14155550123` → `+14•••••••23`), so a support agent can still tell two
//! calls of one number apart without learning the number; any other party address (a SIP
//! URI, a client name) becomes `•••`. Free text that may quote a number (a provider's
//! JSON, a URL, custom data) keeps its text and has each phone-number-like run of seven
//! digits or more masked the same way.

/// The mask of a value that is not a phone number.
pub const HIDDEN: &str = "•••";
const DOT: char = '•';
/// Digits a run needs to be taken for a phone number inside free text.
const MIN_DIGITS: usize = 7;

/// How a governed string is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Masking {
    /// The value is a party address: a phone number masked as one, anything else hidden.
    Whole,
    /// Free text: phone-number-like runs inside it masked, the rest kept.
    Text,
}

impl Masking {
    pub fn apply(self, value: &str) -> String {
        match self {
            Masking::Whole => party(value),
            Masking::Text => text(value),
        }
    }

    /// Masks every string in a JSON value (keys kept).
    pub fn apply_json(self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.apply(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.apply_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.apply_json(v)),
            // A number may be a phone number written without quotes.
            serde_json::Value::Number(n) if n.to_string().len() >= MIN_DIGITS => {
                *value = serde_json::Value::String(number(&n.to_string()))
            }
            _ => {}
        }
    }
}

/// A party address: a phone number (digits, at most one leading `+`, and the separators
/// people write: spaces, dashes, dots, parentheses) masked as one; anything else hidden.
pub fn party(value: &str) -> String {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let phone = digits >= 3
        && value
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')') || (c == '+' && i == 0));
    if phone { number(value) } else { HIDDEN.to_string() }
}

/// A phone number: its first three and last two characters kept, every other digit `•`.
fn number(value: &str) -> String {
    let count = value.chars().count();
    value
        .chars()
        .enumerate()
        .map(|(i, c)| match c.is_ascii_digit() && i >= 3 && i + 2 < count {
            true => DOT,
            false => c,
        })
        .collect()
}

/// Free text with each run that looks like a phone number (seven digits or more, with
/// spaces, dashes or parentheses between them and an optional `+` before) masked; a
/// date (`2026-12-06`) is left alone.
pub fn text(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let starts =
            chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit));
        if !starts {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut end = i + 1;
        let mut last_digit = i;
        while end < chars.len() && (chars[end].is_ascii_digit() || matches!(chars[end], ' ' | '-' | '(' | ')')) {
            if chars[end].is_ascii_digit() {
                last_digit = end;
            }
            end += 1;
        }
        let run: String = chars[i..=last_digit].iter().collect();
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if digits >= MIN_DIGITS && !is_date(&run) {
            out.push_str(&number(&run));
        } else {
            out.push_str(&run);
        }
        i = last_digit + 1;
    }
    out
}

/// `YYYY-MM-DD` at the start of a run (a timestamp's date, not a number).
fn is_date(run: &str) -> bool {
    let b = run.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_number_keeps_its_first_three_and_last_two_characters() {
        assert_eq!(party("+14155550123"), "+14•••••••23");
        assert_eq!(party("14155550123"), "141••••••23");
        assert_eq!(party("+1 (415) 555-0123"), "+1 (•••) •••-••23");
    }

    #[test]
    fn other_party_addresses_are_hidden_whole() {
        assert_eq!(party("sip:alice@example.com"), HIDDEN);
        assert_eq!(party("client:support-desk"), HIDDEN);
        assert_eq!(party(""), HIDDEN);
    }

    #[test]
    fn numbers_inside_text_are_masked_and_the_rest_kept() {
        assert_eq!(
            text("sip:+14155550123@sip.example.com;user=phone"),
            "sip:+14•••••••23@sip.example.com;user=phone"
        );
        assert_eq!(
            text("https://x.example/laml?To=%2B14155550123&n=5"),
            "https://x.example/laml?To=%2B141••••••23&n=5"
        );
        assert_eq!(
            text("call from 415 555 0123 at 2026-12-06 10:00"),
            "call from 415 ••• ••23 at 2026-12-06 10:00"
        );
        assert_eq!(text("realtime_api"), "realtime_api");
        assert_eq!(text("order 12345"), "order 12345");
    }

    #[test]
    fn every_string_of_a_json_value_is_masked() {
        let mut v =
            serde_json::json!({"to": "+14155550123", "n": 14155550123u64, "say": "hi", "list": ["+442071838750"]});
        Masking::Text.apply_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"to": "+14•••••••23", "n": "141••••••23", "say": "hi", "list": ["+44••••••••50"]})
        );
    }
}
