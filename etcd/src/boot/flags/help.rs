//! `etcd --help`, rendered from the flag table in etcd's own layout: the usage block goes to
//! stderr and the flag list to stdout, exactly as etcd 3.4 splits them (etcd: etcdmain/help.go).

use super::table::{FLAGS, IGNORED_HEADING, Kind};

/// The usage block etcd prints before the flags (and after a usage error).
pub const USAGE: &str = "Usage:

  etcd [flags]
    Start an etcd server.

  etcd --version
    Show the version of etcd.

  etcd -h | --help
    Show the help information about etcd.
";

/// The flag list: the flags we implement, then those accepted and ignored.
pub fn flag_list() -> String {
    let mut out = String::from("\nFlags:\n");
    for used in [true, false] {
        if !used {
            out.push_str(&format!("\n{IGNORED_HEADING}:\n"));
        }
        for (name, kind, default, _, help) in FLAGS.iter().filter(|f| f.3 == used) {
            let default = match (kind, *default) {
                (Kind::Bool, "") => "false",
                (_, d) => d,
            };
            out.push_str(&format!("  --{name} '{default}'\n    {help}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_flag_once_with_etcds_layout() {
        let list = flag_list();
        for (name, ..) in FLAGS {
            assert_eq!(
                list.matches(&format!("  --{name} '")).count(),
                1,
                "--{name} listed once"
            );
        }
        assert!(list.contains("  --name 'default'\n    Human-readable name for this member.\n"));
        assert!(list.contains(&format!("\n{IGNORED_HEADING}:\n  --wal-dir ''\n")));
    }
}
