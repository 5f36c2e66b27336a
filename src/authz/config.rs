//! `[authorization]`: which token scopes a caller needs to see a field, and what it sees
//! without them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `[authorization]`: field rules by token scope.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationConfig {
    /// The token claim holding granted scopes: a space-separated string (OAuth 2 `scope`)
    /// or an array of strings (`scp`, `permissions`).
    #[serde(default = "default_scopes_claim")]
    pub scopes_claim: String,
    /// `"Type.field" = { requires = "scope" | ["a", "b"], otherwise = "mask" | "forbid" }`.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldRuleConfig>,
}

fn default_scopes_claim() -> String {
    "scope".into()
}

/// One rule of `[authorization.fields]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRuleConfig {
    /// The scope (or every scope of a list) a caller needs to see the field as it is.
    pub requires: Requires,
    /// What a caller without them gets.
    pub otherwise: Otherwise,
}

/// `requires`: one scope, or a list meaning all of them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Requires {
    One(String),
    All(Vec<String>),
}

impl Requires {
    pub fn scopes(&self) -> Vec<String> {
        match self {
            Requires::One(scope) => vec![scope.clone()],
            Requires::All(scopes) => scopes.clone(),
        }
    }
}

/// `otherwise`: the field's value masked in place, or `null` with a `FORBIDDEN` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Otherwise {
    Mask,
    Forbid,
}
