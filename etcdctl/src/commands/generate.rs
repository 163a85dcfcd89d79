//! `etcdctl generate <dir>` (hidden): the one command that regenerates the checked-in shell
//! completions (`completions/`) and man pages (`man/`) from the clap definitions in `cli.rs`.
//!
//! Run from the repository root: `cargo run -p etcdctl -- generate .`
//! A unit test (`generated_files_are_fresh`) fails when the checked-in files are stale.

use std::path::Path;

use anyhow::Context;
use clap::Command;
use clap_complete::Shell;

use crate::cli;

/// Every generated file as (path relative to the repository root, contents), sorted by path.
pub fn render_all() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "etcdctl.bash"),
        (Shell::Zsh, "_etcdctl"),
        (Shell::Fish, "etcdctl.fish"),
    ] {
        let mut cmd = cli::command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "etcdctl", &mut buf);
        files.push((format!("completions/{name}"), buf));
    }
    let mut cmd = cli::command().disable_help_subcommand(true);
    cmd.build();
    man_pages(cmd, &mut files)?;
    let mut buf = Vec::new();
    clap_mangen::Man::new(cli::etcd_daemon_command())
        .render(&mut buf)
        .context("rendering etcd.1")?;
    files.push(("man/etcd.1".into(), buf));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// One page per (visible) command, as clap_mangen's `generate_to` names them.
fn man_pages(cmd: Command, files: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
        man_pages(sub, files)?;
    }
    let man = clap_mangen::Man::new(cmd);
    let mut buf = Vec::new();
    man.render(&mut buf).context("rendering a man page")?;
    files.push((format!("man/{}", man.get_filename()), buf));
    Ok(())
}

/// Write every generated file under `root` (the repository root).
pub fn write_all(root: &Path) -> anyhow::Result<()> {
    for (rel, data) in render_all()? {
        let path = root.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, data).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when `completions/` or `man/` differ from what the clap definitions generate.
    /// Fix with `cargo run -p etcdctl -- generate .` from the repository root.
    #[test]
    fn generated_files_are_fresh() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let files = render_all().unwrap();
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
            "stale generated files {stale:?}; run `cargo run -p etcdctl -- generate .` from the repository root"
        );
    }
}
