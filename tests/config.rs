//! Loading configuration from a TOML file plus `SWITCHBOARD__` environment overrides.
//! (Its own test binary: it sets process environment variables.)

use std::io::Write;

use switchboard::config::Config;

#[test]
fn file_then_environment_with_secrets_hidden() {
    let dir = std::env::temp_dir().join(format!("switchboard-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("switchboard.toml");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(
        file,
        "[server]\nlisten = \"127.0.0.1:4555\"\n[providers.signalwire]\nspace_url = \"https://acme.signalwire.com\"\nproject_id = \"p-1\"\napi_token = \"from-file\"\n[cache]\nfinal_ttl = \"2h\""
    )
    .unwrap();
    // SAFETY: this test binary has a single test, so no thread reads the environment concurrently.
    unsafe {
        std::env::set_var("SWITCHBOARD__PROVIDERS__SIGNALWIRE__API_TOKEN", "from-env");
        std::env::set_var("SWITCHBOARD__GRAPHQL__MAX_PAGE_SIZE", "50");
    }
    let config = Config::load(Some(&path)).expect("valid config");
    let sw = config.providers.signalwire.as_ref().unwrap();
    assert_eq!(sw.api_token.expose(), "from-env", "environment wins over the file");
    assert_eq!(config.graphql.max_page_size, 50);
    assert_eq!(config.server.listen.port(), 4555);
    assert_eq!(config.cache.final_ttl.as_secs(), 7200);
    let printed = format!("{config:?}");
    assert!(
        !printed.contains("from-env") && !printed.contains("from-file"),
        "secrets never print"
    );

    let err = Config::load(Some(&dir.join("missing.toml"))).unwrap_err().to_string();
    assert!(err.contains("missing.toml"), "{err}");

    // An override for a provider the file does not configure names the missing key.
    std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1\"\n").unwrap();
    let err = Config::load(Some(&path)).unwrap_err().to_string();
    assert!(err.contains("space_url"), "{err}");
    // SAFETY: as above.
    unsafe {
        std::env::remove_var("SWITCHBOARD__PROVIDERS__SIGNALWIRE__API_TOKEN");
        std::env::remove_var("SWITCHBOARD__GRAPHQL__MAX_PAGE_SIZE");
    }
    std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1\"\ncolour = \"blue\"\n").unwrap();
    let err = Config::load(Some(&path)).unwrap_err().to_string();
    assert!(err.contains("colour"), "unknown keys are named: {err}");
    std::fs::remove_dir_all(&dir).ok();

    // [authorization], as README shows it, loads; its mistakes are named.
    let readme = r#"
[authorization]
scopes_claim = "scope"

[authorization.fields]
"CallLog.from" = { requires = "calls:numbers", otherwise = "mask" }
"CallLog.to"   = { requires = "calls:numbers", otherwise = "mask" }
"CallLog.cost" = { requires = "billing:read",  otherwise = "forbid" }
"Query.voximplantAuditLog" = { requires = ["audit:read", "admin"], otherwise = "forbid" }
"#;
    let dir = std::env::temp_dir().join(format!("switchboard-authz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("switchboard.toml");
    std::fs::write(&path, readme).unwrap();
    let config = Config::load(Some(&path)).expect("the README's rules load");
    assert_eq!(config.authorization.unwrap().fields.len(), 4);
    for (broken, named) in [
        (
            readme.replace("scopes_claim = \"scope\"", "scopes_claim = 5"),
            "scopes_claim",
        ),
        (
            readme.replace("CallLog.from", "CallLog.frm"),
            "authorization.fields.\"CallLog.frm\"",
        ),
        (
            readme.replace("Query.voximplantAuditLog", "Query.auditLog"),
            "authorization.fields.\"Query.auditLog\"",
        ),
        (
            readme.replace(
                "\"billing:read\",  otherwise = \"forbid\"",
                "\"billing:read\", otherwise = \"mask\"",
            ),
            "authorization.fields.\"CallLog.cost\"",
        ),
        (
            readme.replace("otherwise = \"forbid\" }\n\"Query", "otherwise = \"hide\" }\n\"Query"),
            "hide",
        ),
    ] {
        std::fs::write(&path, &broken).unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains(named), "{named}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
