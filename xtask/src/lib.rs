//! Generated files, rendered from the binaries' real definitions: etcd's flag table
//! (`etcd::boot::flags::command`) and etcdctl's clap command (`etcdctl::cli::command`), plus
//! the ENVIRONMENT, EXIT STATUS and EXAMPLES sections each library documents next to its code.
//! `tests/fresh.rs` fails when the checked-in `completions/` or `man/` differ from these.
#![deny(unsafe_code)]

mod man;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap_complete::Shell;

/// The repository root (this crate's parent directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every generated file as (path relative to the repository root, contents), sorted by path.
pub fn render_all() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "etcdctl.bash"),
        (Shell::Zsh, "_etcdctl"),
        (Shell::Fish, "etcdctl.fish"),
    ] {
        let mut cmd = etcdctl::cli::command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "etcdctl", &mut buf);
        files.push((format!("completions/{name}"), buf));
    }
    man::etcdctl_pages(&mut files)?;
    files.push(("man/etcd.1".into(), man::etcd_page()?));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Write every generated file under `root`; returns how many were written.
pub fn write_all(root: &Path) -> anyhow::Result<usize> {
    let files = render_all()?;
    for (rel, data) in &files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, data).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(files.len())
}
