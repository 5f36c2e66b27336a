//! Records the git commit being built as `SWITCHBOARD_GIT_SHA` (for the
//! `switchboard_build_info` metric): the variable of that name when set (an image built
//! without `.git`), else `git rev-parse`, else `unknown`. Runs no network step.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SWITCHBOARD_GIT_SHA");
    let head = Path::new(".git/HEAD");
    if head.exists() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        if let Some(reference) = std::fs::read_to_string(head)
            .ok()
            .and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
        {
            println!("cargo:rerun-if-changed=.git/{reference}");
        }
    }
    let sha = std::env::var("SWITCHBOARD_GIT_SHA")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SWITCHBOARD_GIT_SHA={sha}");
}
