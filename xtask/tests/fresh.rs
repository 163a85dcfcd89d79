//! The checked-in generated files are what `cargo run -p xtask -- generate` renders now.

use std::path::Path;

/// Fails when `completions/` or `man/` differ from what the definitions generate.
/// Fix with `cargo run -p xtask -- generate` from the repository root.
#[test]
fn generated_files_are_fresh() {
    let root = xtask::repo_root();
    let files = xtask::render_all().unwrap();
    let mut stale = Vec::new();
    for (rel, data) in &files {
        match std::fs::read(root.join(rel)) {
            Ok(on_disk) if &on_disk == data => {}
            _ => stale.push(rel.clone()),
        }
    }
    for dir in ["completions", "man"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let name = format!("{dir}/{}", entry.unwrap().file_name().to_string_lossy());
            if !files.iter().any(|(rel, _)| *rel == name) {
                stale.push(format!("{name} (not generated any more)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}; run `cargo run -p xtask -- generate` from the repository root"
    );
}

/// Every flag `etcd --help` lists (the same `flag_list` the binary prints) is in `man/etcd.1`,
/// with its variable; the page carries etcd's version and no `-V`.
#[test]
fn etcd_man_page_documents_every_help_flag() {
    let page = std::fs::read_to_string(Path::new(&xtask::repo_root()).join("man/etcd.1")).unwrap();
    let help = etcd::boot::flags::help::flag_list();
    let listed: Vec<&str> = help
        .lines()
        .filter_map(|l| l.strip_prefix("  --"))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(listed.len() > 60, "help lists {} flags", listed.len());
    let missing: Vec<&&str> = listed
        .iter()
        .filter(|f| !page.contains(&format!("\\fB\\-\\-{}\\fR", f.replace('-', "\\-"))))
        .collect();
    assert!(
        missing.is_empty(),
        "flags missing from man/etcd.1: {missing:?}"
    );
    assert!(
        page.contains("etcd 3.4.23"),
        "the page names etcd's version"
    );
    assert!(!page.contains("\\-V"), "the binary rejects -V");
    for section in ["ENVIRONMENT", "EXIT STATUS", "EXAMPLES"] {
        assert!(
            page.contains(&format!(".SH \"{section}\""))
                || page.contains(&format!(".SH {section}")),
            "{section}"
        );
    }
    assert!(page.contains("ETCD_DISCOVERY_FALLBACK"));
}

/// exec-watch's page documents what its command receives.
#[test]
fn exec_watch_page_documents_its_variables() {
    let page =
        std::fs::read_to_string(xtask::repo_root().join("man/etcdctl-exec-watch.1")).unwrap();
    for var in [
        "ETCD_WATCH_ACTION",
        "ETCD_WATCH_KEY",
        "ETCD_WATCH_VALUE",
        "ETCD_WATCH_MODIFIED_INDEX",
        "ETCDCTL_ENDPOINTS",
    ] {
        assert!(page.contains(var), "{var}");
    }
}
