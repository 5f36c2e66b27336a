//! The layering of `src/` as ARCHITECTURE.md ("Dependency rules") states it: which
//! top-level module may name which (`crate::x` anywhere in its files, tests included),
//! and no cycle between top-level modules. Adding a module or an edge means adding it
//! here, deliberately.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and the modules it may name. Lower layers first.
const MAY_IMPORT: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("settings", &[]),
    ("telemetry", &["domain", "settings"]),
    ("request", &["telemetry"]),
    ("cache", &["domain", "request", "settings", "telemetry"]),
    ("upstream", &["cache", "domain", "request", "settings", "telemetry"]),
    ("timeline", &["domain"]),
    (
        "providers",
        &["cache", "domain", "request", "settings", "telemetry", "upstream"],
    ),
    ("tenancy", &["cache", "domain", "providers", "settings", "upstream"]),
    ("authz", &["settings", "telemetry"]),
    ("live", &["domain", "settings", "telemetry"]),
    ("demand", &["settings"]),
    (
        "auth",
        &["authz", "demand", "domain", "settings", "telemetry", "tenancy"],
    ),
    (
        "graphql",
        &[
            "authz",
            "cache",
            "demand",
            "domain",
            "live",
            "providers",
            "request",
            "settings",
            "telemetry",
            "tenancy",
            "timeline",
            "upstream",
        ],
    ),
    (
        "http",
        &[
            "auth",
            "authz",
            "cache",
            "demand",
            "domain",
            "graphql",
            "providers",
            "request",
            "settings",
            "telemetry",
            "tenancy",
            "upstream",
        ],
    ),
    ("emulator", &["domain", "providers", "settings"]),
    (
        "config",
        &[
            "auth",
            "authz",
            "cache",
            "demand",
            "graphql",
            "http",
            "live",
            "providers",
            "settings",
            "telemetry",
            "tenancy",
            "upstream",
        ],
    ),
    ("demo", &["config", "emulator", "live", "tenancy"]),
    (
        "doctor",
        &[
            "app",
            "cache",
            "config",
            "demo",
            "domain",
            "providers",
            "settings",
            "telemetry",
            "tenancy",
            "upstream",
        ],
    ),
    (
        "app",
        &[
            "auth",
            "authz",
            "cache",
            "config",
            "demand",
            "demo",
            "domain",
            "graphql",
            "http",
            "live",
            "providers",
            "request",
            "settings",
            "telemetry",
            "tenancy",
            "upstream",
        ],
    ),
];

/// The `crate::<module>` names in `text`, comments left out (`crate::{a, b}` groups too).
fn named_modules(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            for part in group.split(',') {
                let name = ident(part.trim());
                if !name.is_empty() && name != "self" {
                    found.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Module -> the modules its files name.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative.components().next().expect("a component");
        let module = first.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if module == "main" || module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let named: Vec<String> = named_modules(&text).into_iter().filter(|m| *m != module).collect();
        edges.entry(module).or_default().extend(named);
    }
    edges
}

/// The cycles (strongly connected components of more than one module).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    // Reachability by repeated expansion: small graphs, clarity over speed.
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let mut found: Vec<BTreeSet<String>> = Vec::new();
    for module in edges.keys() {
        let forward = reach(module);
        let component: BTreeSet<String> = forward
            .iter()
            .filter(|other| *other != module && reach(other).contains(module))
            .cloned()
            .chain(std::iter::once(module.clone()))
            .collect();
        if component.len() > 1 && !found.contains(&component) {
            found.push(component);
        }
    }
    found
}

#[test]
fn no_cycle_between_top_level_modules() {
    let found = cycles(&edges());
    assert!(found.is_empty(), "import cycles: {found:?}");
}

#[test]
fn every_module_imports_only_what_the_layering_allows() {
    let rules: BTreeMap<&str, &[&str]> = MAY_IMPORT.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, named) in edges() {
        let Some(allowed) = rules.get(module.as_str()) else {
            wrong.push(format!("{module} is not in MAY_IMPORT"));
            continue;
        };
        for other in named.iter().filter(|o| !allowed.contains(&o.as_str())) {
            wrong.push(format!("{module} -> {other}"));
        }
    }
    assert!(wrong.is_empty(), "imports the layering forbids: {wrong:?}");
}

#[test]
fn the_checks_see_cycles_and_groups() {
    let named =
        named_modules("use crate::{cache::Cache, domain::Provider};\n// crate::http\nlet x = crate::upstream::Http;");
    assert_eq!(named, ["cache", "domain", "upstream"].map(String::from).into());
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&graph).len(), 1, "a cycle put back is found");
}
