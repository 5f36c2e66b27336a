//! `[authorization.fields]` compiled against the schema: which rules guard each field of
//! each concrete type, how a masked value of it is written, and which filter arguments
//! would reveal a guarded field.
//!
//! A rule on an interface field holds for every type implementing it; a rule on a type's
//! field for that type only. Copies of a party's number that providers keep elsewhere (a
//! Voximplant call's `remoteNumber`, OneUptime's `callData`, a URL or free text that may
//! quote a number) are guarded by the rules of their call log's `from` and `to`, so a
//! masked number cannot be read from its copy.

use std::collections::{BTreeSet, HashMap};

use async_graphql::parser::types::{BaseType, ServiceDocument, Type, TypeKind, TypeSystemDefinition};

use super::config::{AuthorizationConfig, Otherwise};
use super::mask::Masking;
use crate::settings::ConfigError;

/// Most rules one configuration may hold (a caller's view is a bit per rule).
pub const MAX_RULES: usize = 64;

/// One configured rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its key as configured (`CallLog.from`): how logs, audit records and metrics name it.
    pub key: String,
    pub requires: Vec<String>,
    pub otherwise: Otherwise,
}

/// What guards one field of one concrete type.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The rules (indices into `Rules::rules`) that must all grant.
    pub rules: Vec<u8>,
    /// How its value is masked (where every denying rule masks).
    pub masking: Masking,
}

/// Fields that copy a call log's numbers: (type, field, the call log type whose `from`
/// and `to` rules guard it, how it is masked).
const COPIES: &[(&str, &str, &str, Masking)] = &[
    (
        "SignalWireVoiceLog",
        "providerSource",
        "SignalWireVoiceLog",
        Masking::Text,
    ),
    ("SignalWireVoiceLog", "lamlUrl", "SignalWireVoiceLog", Masking::Text),
    (
        "SignalWireVoiceLogEvent",
        "details",
        "SignalWireVoiceLog",
        Masking::Text,
    ),
    (
        "SignalWireVideoLog",
        "providerSource",
        "SignalWireVideoLog",
        Masking::Text,
    ),
    ("SignalWireVideoLog", "url", "SignalWireVideoLog", Masking::Text),
    ("SignalWireVideoLog", "roomName", "SignalWireVideoLog", Masking::Text),
    ("OneUptimeCallLog", "callData", "OneUptimeCallLog", Masking::Text),
    ("OneUptimeCallLog", "statusMessage", "OneUptimeCallLog", Masking::Text),
    (
        "VoximplantCallSession",
        "customData",
        "VoximplantCallSession",
        Masking::Text,
    ),
    (
        "VoximplantCallSession",
        "initiatorAddress",
        "VoximplantCallSession",
        Masking::Text,
    ),
    (
        "VoximplantCallSession",
        "logFileUrl",
        "VoximplantCallSession",
        Masking::Text,
    ),
    (
        "VoximplantCallSession",
        "finishReason",
        "VoximplantCallSession",
        Masking::Text,
    ),
    ("VoximplantCall", "localNumber", "VoximplantCallSession", Masking::Whole),
    (
        "VoximplantCall",
        "remoteNumber",
        "VoximplantCallSession",
        Masking::Whole,
    ),
    (
        "VoximplantCall",
        "diversionNumber",
        "VoximplantCallSession",
        Masking::Whole,
    ),
    ("VoximplantCall", "customData", "VoximplantCallSession", Masking::Text),
    ("VoximplantCall", "recordUrl", "VoximplantCallSession", Masking::Text),
    ("VoximplantCall", "endReason", "VoximplantCallSession", Masking::Text),
    ("VoximplantRecord", "recordName", "VoximplantCallSession", Masking::Text),
    ("VoximplantRecord", "recordUrl", "VoximplantCallSession", Masking::Text),
    (
        "VoximplantRecord",
        "transcriptionUrl",
        "VoximplantCallSession",
        Masking::Text,
    ),
];

/// A field of a type: (type, field).
type TypeField = (&'static str, &'static str);

/// Filter arguments that select by a guarded field: (input type, input field, the fields
/// whose rules a caller must pass to use it; `CallLog` meaning every call log type).
const FILTERS: &[(&str, &str, &[TypeField])] = &[
    ("CallLogFilter", "number", &[("CallLog", "from"), ("CallLog", "to")]),
    ("OneUptimeCallLogFilter", "fromNumber", &[("OneUptimeCallLog", "from")]),
    ("OneUptimeCallLogFilter", "toNumber", &[("OneUptimeCallLog", "to")]),
    (
        "VoximplantCallSessionFilter",
        "remoteNumbers",
        &[("VoximplantCallSession", "from"), ("VoximplantCallSession", "to")],
    ),
    (
        "VoximplantCallSessionFilter",
        "localNumbers",
        &[("VoximplantCallSession", "from"), ("VoximplantCallSession", "to")],
    ),
];

/// The compiled rules.
#[derive(Debug, Default)]
pub struct Rules {
    pub rules: Vec<Rule>,
    /// Guarded fields by concrete type, then field.
    guards: HashMap<String, HashMap<String, Guard>>,
    /// Rules a filter argument needs, by input type, then input field.
    filters: HashMap<String, HashMap<String, Vec<u8>>>,
}

/// What the schema says about its types, as rules need it.
struct Types {
    /// Fields of object and interface types, with their types.
    fields: HashMap<String, HashMap<String, Type>>,
    interfaces: BTreeSet<String>,
    /// Object types implementing each interface.
    implementers: HashMap<String, Vec<String>>,
    /// The query root's name.
    query: String,
}

impl Types {
    fn from_sdl(sdl: &str) -> Types {
        let doc: ServiceDocument = async_graphql::parser::parse_schema(sdl).expect("the schema's own SDL parses");
        let mut types = Types {
            fields: HashMap::new(),
            interfaces: BTreeSet::new(),
            implementers: HashMap::new(),
            query: "Query".into(),
        };
        for definition in doc.definitions {
            if let TypeSystemDefinition::Schema(schema) = &definition
                && let Some(query) = &schema.node.query
            {
                types.query = query.node.to_string();
            }
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            let (fields, implements) = match &ty.node.kind {
                TypeKind::Object(o) => (&o.fields, Some(&o.implements)),
                TypeKind::Interface(i) => {
                    types.interfaces.insert(name.clone());
                    (&i.fields, None)
                }
                _ => continue,
            };
            for interface in implements.into_iter().flatten() {
                types
                    .implementers
                    .entry(interface.node.to_string())
                    .or_default()
                    .push(name.clone());
            }
            let fields = fields
                .iter()
                .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()))
                .collect();
            types.fields.insert(name, fields);
        }
        types
    }

    /// The object type of the nodes of connection type `connection` (`edges { node }`),
    /// when it is a Relay connection of objects.
    fn connection_node(&self, connection: &str) -> Option<String> {
        let edge = named(self.fields.get(connection)?.get("edges")?);
        let node = named(self.fields.get(edge)?.get("node")?);
        (!self.interfaces.contains(node) && self.fields.contains_key(node)).then(|| node.to_string())
    }

    /// The concrete types a rule on `ty` reaches.
    fn concrete(&self, ty: &str) -> Vec<String> {
        match self.interfaces.contains(ty) {
            true => self.implementers.get(ty).cloned().unwrap_or_default(),
            false => vec![ty.to_string()],
        }
    }
}

/// The named type at the bottom of a field type (`[String!]` → `String`).
fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

impl Rules {
    /// Compiles `config` against the schema of `sdl`; an unknown type or field, or a mask
    /// on a field that cannot hold one, is an error naming its key.
    pub fn compile(config: &AuthorizationConfig, sdl: &str) -> Result<Rules, ConfigError> {
        let types = Types::from_sdl(sdl);
        let invalid = |key: &str, problem: String| ConfigError::Invalid {
            key: format!("authorization.fields.\"{key}\""),
            problem,
        };
        if config.fields.len() > MAX_RULES {
            return Err(ConfigError::invalid(
                "authorization.fields",
                format!("at most {MAX_RULES} rules"),
            ));
        }
        let claim = config.scopes_claim.trim();
        if claim.is_empty() {
            return Err(ConfigError::invalid("authorization.scopes_claim", "names no claim"));
        }
        let mut rules = Rules::default();
        for (index, (key, rule)) in config.fields.iter().enumerate() {
            let (ty, field) = key
                .split_once('.')
                .ok_or_else(|| invalid(key, "must name `Type.field`".into()))?;
            let fields = types
                .fields
                .get(ty)
                .ok_or_else(|| invalid(key, format!("the schema has no object or interface type `{ty}`")))?;
            let field_type = fields
                .get(field)
                .ok_or_else(|| invalid(key, format!("type `{ty}` has no field `{field}`")))?;
            let requires = rule.requires.scopes();
            if requires.is_empty()
                || requires
                    .iter()
                    .any(|s| s.trim().is_empty() || s.contains(char::is_whitespace))
            {
                return Err(invalid(
                    key,
                    "`requires` must name one scope or a list of scopes, without spaces".into(),
                ));
            }
            if rule.otherwise == Otherwise::Mask && !matches!(named(field_type), "String" | "JSON" | "ID") {
                return Err(invalid(
                    key,
                    format!(
                        "a `{}` cannot be masked and keep its type; use otherwise = \"forbid\"",
                        named(field_type)
                    ),
                ));
            }
            let masking = match (ty, field) {
                (_, "from" | "to") => Masking::Whole,
                _ if named(field_type) == "JSON" => Masking::Text,
                _ => Masking::Whole,
            };
            let index = u8::try_from(index).expect("at most MAX_RULES rules");
            for concrete in types.concrete(ty) {
                rules.add(&concrete, field, index, masking);
            }
            // A rule on a root connection (`Query.voximplantAuditLog`) holds for its nodes
            // wherever else they can be read (`node(id)`, a report's entries): every field
            // of the node type is guarded by it too.
            if ty == types.query
                && let Some(node) = types.connection_node(named(field_type))
            {
                let node_fields: Vec<String> = types
                    .fields
                    .get(&node)
                    .into_iter()
                    .flat_map(|f| f.keys().cloned())
                    .collect();
                for node_field in node_fields {
                    rules.add(&node, &node_field, index, Masking::Whole);
                }
            }
            rules.rules.push(Rule {
                key: key.clone(),
                requires,
                otherwise: rule.otherwise,
            });
        }
        for (ty, field, owner, masking) in COPIES {
            let numbers = rules.rules_of(owner, &["from", "to"]);
            if types.fields.get(*ty).is_some_and(|f| f.contains_key(*field)) {
                for index in numbers {
                    rules.add(ty, field, index, *masking);
                }
            }
        }
        // A field resolved through an interface value names the interface as its parent:
        // there, the rules of every implementer hold (`graphql::authorize` resolves call
        // logs as their concrete types, so this is only a safety net).
        for interface in &types.interfaces {
            for field in types.fields.get(interface).into_iter().flat_map(|f| f.keys()) {
                let implementers = types.implementers.get(interface).cloned().unwrap_or_default();
                for concrete in implementers {
                    let Some(guard) = rules.guard(&concrete, field).cloned() else {
                        continue;
                    };
                    for index in guard.rules {
                        rules.add(interface, field, index, guard.masking);
                    }
                }
            }
        }
        for (input, field, guarded) in FILTERS {
            let mut needed = BTreeSet::new();
            for (ty, name) in *guarded {
                for concrete in types.concrete(ty) {
                    needed.extend(rules.rules_of(&concrete, &[name]));
                }
            }
            if !needed.is_empty() {
                rules
                    .filters
                    .entry(input.to_string())
                    .or_default()
                    .insert(field.to_string(), needed.into_iter().collect());
            }
        }
        Ok(rules)
    }

    fn add(&mut self, ty: &str, field: &str, index: u8, masking: Masking) {
        let guard = self
            .guards
            .entry(ty.to_string())
            .or_default()
            .entry(field.to_string())
            .or_insert(Guard {
                rules: Vec::new(),
                masking,
            });
        if !guard.rules.contains(&index) {
            guard.rules.push(index);
        }
    }

    /// The rules guarding any of `fields` of `ty`.
    fn rules_of(&self, ty: &str, fields: &[&str]) -> Vec<u8> {
        let mut rules: Vec<u8> = fields
            .iter()
            .filter_map(|f| self.guard(ty, f))
            .flat_map(|g| g.rules.iter().copied())
            .collect();
        rules.sort_unstable();
        rules.dedup();
        rules
    }

    /// What guards field `field` of concrete type `ty`, if anything does.
    pub fn guard(&self, ty: &str, field: &str) -> Option<&Guard> {
        self.guards.get(ty)?.get(field)
    }

    /// What a field's description adds under `[authorization]`: the scopes it needs and
    /// what a caller without them sees.
    pub fn describe(&self, ty: &str, field: &str) -> Option<String> {
        let guard = self.guard(ty, field)?;
        let needs: Vec<String> = guard
            .rules
            .iter()
            .map(|&i| {
                let rule = &self.rules[usize::from(i)];
                let scopes = rule
                    .requires
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" and ");
                let otherwise = match rule.otherwise {
                    Otherwise::Mask => "masked",
                    Otherwise::Forbid => "null with a FORBIDDEN error",
                };
                format!("scope {scopes} (rule `{}`; {otherwise} without it)", rule.key)
            })
            .collect();
        Some(format!("Authorization: needs {}.", needs.join(", and ")))
    }

    /// Whether anything guards field `field` of concrete type `ty`.
    pub fn guards(&self, ty: &str, field: &str) -> bool {
        self.guard(ty, field).is_some()
    }

    /// The rules a filter's input field needs, if it is guarded.
    pub fn filter(&self, input: &str, field: &str) -> Option<&[u8]> {
        self.filters.get(input)?.get(field).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(fields: serde_json::Value) -> AuthorizationConfig {
        serde_json::from_value(serde_json::json!({ "fields": fields })).expect("a config")
    }

    fn compiled(fields: serde_json::Value) -> Result<Rules, ConfigError> {
        // The checked-in SDL, which a test keeps equal to the code's schema.
        Rules::compile(&config(fields), include_str!("../../schema.graphql"))
    }

    fn key_of(error: ConfigError) -> String {
        match error {
            ConfigError::Invalid { key, .. } => key,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn an_interface_rule_guards_every_implementer_and_a_type_rule_only_its_type() {
        let rules = compiled(serde_json::json!({
            "CallLog.from": {"requires": "calls:numbers", "otherwise": "mask"},
            "OneUptimeCallLog.to": {"requires": ["calls:numbers", "oneuptime"], "otherwise": "forbid"},
        }))
        .unwrap();
        for ty in [
            "SignalWireVoiceLog",
            "SignalWireVideoLog",
            "OneUptimeCallLog",
            "VoximplantCallSession",
            "DiscardedCallLog",
        ] {
            assert!(rules.guards(ty, "from"), "{ty}.from");
        }
        assert!(rules.guards("OneUptimeCallLog", "to"));
        assert!(!rules.guards("SignalWireVoiceLog", "to"));
        assert_eq!(rules.rules[1].requires, ["calls:numbers", "oneuptime"]);
        // Copies of the numbers follow the rules of `from` and `to`.
        assert_eq!(rules.guard("VoximplantCall", "remoteNumber").unwrap().rules, [0]);
        assert_eq!(rules.guard("OneUptimeCallLog", "callData").unwrap().rules, [0, 1]);
        assert_eq!(rules.filter("OneUptimeCallLogFilter", "toNumber"), Some(&[1u8][..]));
        assert_eq!(rules.filter("CallLogFilter", "number"), Some(&[0u8, 1][..]));
    }

    #[test]
    fn unknown_types_and_fields_and_unmaskable_fields_are_errors_naming_the_key() {
        let rule = serde_json::json!({"requires": "x", "otherwise": "mask"});
        for (key, wanted) in [
            ("Calllog.from", "authorization.fields.\"Calllog.from\""),
            ("CallLog.frm", "authorization.fields.\"CallLog.frm\""),
            ("CallLog", "authorization.fields.\"CallLog\""),
            ("CallLog.cost", "authorization.fields.\"CallLog.cost\""),
        ] {
            let error = compiled(serde_json::json!({ key: rule }))
                .err()
                .unwrap_or_else(|| panic!("{key}"));
            assert_eq!(key_of(error), wanted);
        }
        let empty = compiled(serde_json::json!({"CallLog.from": {"requires": [], "otherwise": "forbid"}}));
        assert_eq!(key_of(empty.err().unwrap()), "authorization.fields.\"CallLog.from\"");
    }
}
