//! `switchboard doctor`: every check passes against the demo emulator, and each emulator
//! quirk that imitates a way a real account may differ makes exactly its check fail.

use std::collections::BTreeMap;
use std::process::Command;

use crate::common::*;
use serde_json::Value;
use switchboard::emulator::{Emulator, EmulatorConfig, Quirks};
use switchboard::providers::doctor::{Options, Verdict};

/// An emulator with `quirks`, whose reports complete at once.
async fn emulator(quirks: Quirks) -> Emulator {
    Emulator::start(EmulatorConfig {
        quirks,
        voximplant_report_delay_seconds: 0,
        ..small_emulator()
    })
    .await
    .expect("emulator starts")
}

fn config_for(emulator: &Emulator) -> switchboard::Config {
    let mut config = base_config();
    let credential = &EmulatorConfig::default().signalwire_credentials[0];
    config.providers.signalwire = Some(signalwire_config(emulator, credential));
    config.providers.oneuptime = Some(oneuptime_config(emulator));
    config.providers.voximplant = Some(voximplant_config(emulator));
    config
}

fn quiet() -> Options {
    Options {
        announce: |_| {},
        ..Options::default()
    }
}

/// `provider/check` -> verdict.
async fn verdicts(emulator: &Emulator, options: &Options) -> BTreeMap<String, Verdict> {
    let report = switchboard::doctor::run(config_for(emulator), options)
        .await
        .expect("doctor runs");
    report
        .findings
        .iter()
        .map(|f| {
            (
                format!("{}/{}", f.check.provider.as_str(), f.check.check),
                f.check.verdict,
            )
        })
        .collect()
}

const EVERY_CHECK: [&str; 11] = [
    "oneuptime/credentials",
    "oneuptime/list-order",
    "signalwire/created-after-datetime",
    "signalwire/credentials",
    "signalwire/next-link-origin",
    "signalwire/video-list-order",
    "signalwire/voice-list-order",
    "voximplant/credentials",
    "voximplant/report-csv-header",
    "voximplant/timezone",
    "voximplant/to-date-inclusive",
];

#[tokio::test]
async fn every_check_passes_against_the_emulator_as_it_reads_the_providers() {
    let emulator = emulator(Quirks::default()).await;
    let found = verdicts(&emulator, &quiet()).await;
    assert_eq!(found.keys().map(String::as_str).collect::<Vec<_>>(), EVERY_CHECK);
    assert!(found.values().all(|v| *v == Verdict::Pass), "{found:?}");
}

#[tokio::test]
async fn each_quirk_makes_its_check_fail_and_only_its_check() {
    let cases: Vec<(Quirks, Vec<&str>)> = vec![
        (
            Quirks {
                signalwire_ascending: true,
                ..Quirks::default()
            },
            vec!["signalwire/video-list-order", "signalwire/voice-list-order"],
        ),
        (
            Quirks {
                oneuptime_ascending: true,
                ..Quirks::default()
            },
            vec!["oneuptime/list-order"],
        ),
        (
            Quirks {
                signalwire_link_origin: Some("http://127.0.0.1:9".into()),
                ..Quirks::default()
            },
            vec!["signalwire/next-link-origin"],
        ),
        (
            Quirks {
                signalwire_created_after_inclusive: true,
                ..Quirks::default()
            },
            vec!["signalwire/created-after-datetime"],
        ),
        (
            Quirks {
                signalwire_created_dates_only: true,
                ..Quirks::default()
            },
            vec!["signalwire/created-after-datetime"],
        ),
        (
            Quirks {
                voximplant_forced_timezone: Some("Asia/Tokyo".into()),
                ..Quirks::default()
            },
            vec!["voximplant/timezone"],
        ),
        (
            Quirks {
                voximplant_other_csv_header: true,
                ..Quirks::default()
            },
            vec!["voximplant/report-csv-header"],
        ),
        (
            Quirks {
                voximplant_to_date_exclusive: true,
                ..Quirks::default()
            },
            vec!["voximplant/to-date-inclusive"],
        ),
    ];
    for (quirks, expected) in cases {
        let emulator = emulator(quirks.clone()).await;
        let found = verdicts(&emulator, &quiet()).await;
        let failed: Vec<&str> = found
            .iter()
            .filter(|(_, v)| **v == Verdict::Fail)
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(failed, expected, "{quirks:?}: {found:?}");
        assert!(
            found.values().all(|v| *v != Verdict::Unknown),
            "{quirks:?}: every check decided: {found:?}"
        );
    }
}

#[tokio::test]
async fn refused_credentials_fail_each_providers_credentials_check_and_stop_its_checks() {
    let emulator = emulator(Quirks::default()).await;
    let mut config = config_for(&emulator);
    if let Some(s) = config.providers.signalwire.as_mut() {
        s.api_token = switchboard::config::Secret::new("wrong-token");
    }
    if let Some(o) = config.providers.oneuptime.as_mut() {
        o.api_key = switchboard::config::Secret::new("00000000-0000-4000-8000-000000000000");
    }
    if let Some(v) = config.providers.voximplant.as_mut() {
        // A service account whose key Voximplant does not know.
        let mut credentials: Value = serde_json::from_str(&switchboard::emulator::demo_credentials()).unwrap();
        credentials["private_key"] = Value::String(switchboard::emulator::OTHER_PRIVATE_KEY.into());
        v.credentials_json = Some(switchboard::config::Secret::new(credentials.to_string()));
    }
    let report = switchboard::doctor::run(config, &quiet()).await.expect("doctor runs");
    let found: Vec<(String, Verdict)> = report
        .findings
        .iter()
        .map(|f| {
            (
                format!("{}/{}", f.check.provider.as_str(), f.check.check),
                f.check.verdict,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("signalwire/credentials".to_string(), Verdict::Fail),
            ("oneuptime/credentials".to_string(), Verdict::Fail),
            ("voximplant/credentials".to_string(), Verdict::Fail),
        ]
    );
    assert!(!report.passed());
}

#[tokio::test]
async fn no_report_sends_no_report_request_and_leaves_its_check_unknown() {
    let emulator = emulator(Quirks::default()).await;
    let options = Options {
        report: false,
        ..quiet()
    };
    let found = verdicts(&emulator, &options).await;
    assert_eq!(found["voximplant/report-csv-header"], Verdict::Unknown);
    let stats = emulator.stats();
    assert_eq!(stats.route("POST /platform_api/GetAuditLogAsync"), 0, "{stats:?}");
    let writes: u64 = stats
        .routes
        .iter()
        .filter(|(route, _)| !route.starts_with("GET ") && !route.contains("get-list") && !route.contains("/count"))
        .filter(|(route, _)| !route.ends_with("GetCallHistory"))
        .map(|(_, by)| by.values().sum::<u64>())
        .sum();
    assert_eq!(writes, 0, "only reads were sent: {stats:?}");
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    // No ./switchboard.toml and no SWITCHBOARD_* settings from the caller's shell.
    command.current_dir(std::env::temp_dir());
    command.env_remove("SWITCHBOARD_CONFIG");
    command
}

#[test]
fn the_binary_against_the_demo_passes_everything_and_exits_0() {
    let output = binary().args(["doctor", "--json"]).output().expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert!(output.status.success(), "{report}");
    assert_eq!(report["summary"]["pass"], 11, "{report}");
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["summary"]["unknown"], 0);
    let first = &report["findings"][0];
    for field in ["tenant", "provider", "check", "checked", "answered", "verdict"] {
        assert!(first[field].is_string(), "{field}: {first}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("GetAuditLogAsync"),
        "the report request is named: {stderr}"
    );
}

/// A config file naming the emulator, as a user would write one.
fn config_file(emulator: &Emulator) -> tempfile_path::Path {
    let base = emulator.base_url();
    let credentials = toml_string(&switchboard::emulator::demo_credentials());
    let text = format!(
        r#"[providers.signalwire]
space_url = "{base}"
project_id = "demo-project"
api_token = "demo-token"

[providers.oneuptime]
base_url = "{base}"
api_key = "{key}"

[providers.voximplant]
base_url = "{base}"
credentials_json = {credentials}
lookback = "3650days"
"#,
        key = switchboard::emulator::DEMO_ONEUPTIME_KEY
    );
    tempfile_path::Path::write("doctor.toml", &text)
}

/// A TOML basic string (JSON's escapes are valid in TOML).
fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_exits_1_and_names_the_failing_check() {
    let emulator = emulator(Quirks {
        voximplant_to_date_exclusive: true,
        ..Quirks::default()
    })
    .await;
    let file = config_file(&emulator);
    let output = tokio::task::spawn_blocking(move || {
        binary()
            .args(["doctor", "--no-report", "--config"])
            .arg(file.as_path())
            .output()
            .expect("runs")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let failing: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failing.len(), 1, "{text}");
    assert!(failing[0].contains("voximplant to-date-inclusive"), "{text}");
    assert!(text.contains("9 passed, 1 failed, 1 unknown"), "{text}");
}

/// A file in a fresh temporary directory, removed when dropped.
mod tempfile_path {
    pub(super) struct Path(std::path::PathBuf);

    impl Path {
        pub(super) fn write(name: &str, text: &str) -> Path {
            let dir = std::env::temp_dir().join(format!("switchboard-doctor-{}-{}", std::process::id(), rand_suffix()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            Path(path)
        }

        pub(super) fn as_path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Path {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    fn rand_suffix() -> u64 {
        use std::time::{SystemTime, UNIX_EPOCH};
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    }
}
