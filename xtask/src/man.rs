//! Man pages: clap_mangen's NAME, SYNOPSIS, DESCRIPTION and OPTIONS, then our ENVIRONMENT,
//! EXIT STATUS and EXAMPLES sections, inserted before VERSION.

use anyhow::Context;
use clap::Command;
use roff::{Roff, bold, roman};

use etcd::boot::flags::{self, table};
use etcdctl::cli::docs;
use etcdctl::output::EXIT_STATUSES;

/// What a page says beyond its flags.
struct Extras<'a> {
    environment: Vec<(String, String)>,
    exit_status: &'a [(u8, &'a str)],
    examples: &'a [(&'a str, &'a str)],
}

const ETCD_EXIT_STATUSES: &[(u8, &str)] = &[
    (
        0,
        "The member shut down cleanly (SIGINT or SIGTERM), or --help or --version was printed.",
    ),
    (
        1,
        "The flags describe an impossible member or cluster, or the member failed while starting or serving.",
    ),
    (
        2,
        "The command line did not parse (an unknown flag, a bad boolean); the usage follows on stderr.",
    ),
];

const ETCD_EXAMPLES: &[(&str, &str)] = &[
    (
        "Start a single member with etcd's defaults",
        "etcd --enable-v2",
    ),
    (
        "Start the first of three members",
        "etcd --name infra0 --initial-advertise-peer-urls http://10.0.0.10:2380 \
         --listen-peer-urls http://10.0.0.10:2380 --listen-client-urls http://10.0.0.10:2379 \
         --advertise-client-urls http://10.0.0.10:2379 \
         --initial-cluster infra0=http://10.0.0.10:2380,infra1=http://10.0.0.11:2380,infra2=http://10.0.0.12:2380",
    ),
    (
        "The same through the environment",
        "ETCD_NAME=infra0 ETCD_DATA_DIR=/var/lib/etcd etcd",
    ),
];

/// `man/etcd.1`, from the daemon's one flag table.
pub fn etcd_page() -> anyhow::Result<Vec<u8>> {
    let mut environment: Vec<(String, String)> = table::FLAGS
        .iter()
        .filter(|f| f.3)
        .map(|(name, ..)| (table::env_name(name), format!("The same as --{name}.")))
        .collect();
    environment.push((
        "ETCD_*".into(),
        format!(
            "Every flag has a variable named the same way; those under \"{}\" are accepted and ignored.",
            table::IGNORED_HEADING
        ),
    ));
    environment.push((
        "ETCD_LOG".into(),
        "A tracing filter for the log on stderr (default info,openraft=warn).".into(),
    ));
    environment.push((
        "TOKIO_WORKER_THREADS".into(),
        "Threads serving requests (default: one fewer than the machine's cores, at least one)."
            .into(),
    ));
    let mut cmd = flags::command();
    cmd.build();
    page(
        cmd,
        &Extras {
            environment,
            exit_status: ETCD_EXIT_STATUSES,
            examples: ETCD_EXAMPLES,
        },
    )
}

/// One page per (visible) etcdctl command, named as clap_mangen's `generate_to` names them.
pub fn etcdctl_pages(files: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    let mut cmd = etcdctl::cli::command().disable_help_subcommand(true);
    cmd.build();
    etcdctl_page(cmd, files)
}

fn etcdctl_page(cmd: Command, files: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
        etcdctl_page(sub, files)?;
    }
    let name = clap_mangen::Man::new(cmd.clone()).get_filename();
    let stem = name.trim_end_matches(".1").to_string();
    let mut environment: Vec<(String, String)> = Vec::new();
    if stem == "etcdctl-exec-watch" {
        environment.extend(
            docs::WATCH_ENVIRONMENT
                .iter()
                .map(|(k, v)| ((*k).to_string(), format!("Set for the command: {v}"))),
        );
    }
    environment.extend(
        docs::ENVIRONMENT
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
    );
    let extras = Extras {
        environment,
        exit_status: EXIT_STATUSES,
        examples: docs::examples(&stem),
    };
    files.push((format!("man/{name}"), page(cmd, &extras)?));
    Ok(())
}

fn page(cmd: Command, extras: &Extras) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .context("rendering a man page")?;
    let text = String::from_utf8(buf).context("clap_mangen wrote UTF-8")?;
    let sections = extra_sections(extras);
    let out = match text.find("\n.SH VERSION\n") {
        Some(i) => format!("{}\n{sections}{}", &text[..i], &text[i + 1..]),
        None => format!("{text}{sections}"),
    };
    Ok(out.into_bytes())
}

fn extra_sections(extras: &Extras) -> String {
    let mut roff = Roff::default();
    if !extras.environment.is_empty() {
        roff.control("SH", ["ENVIRONMENT"]);
        for (name, meaning) in &extras.environment {
            roff.control("TP", []);
            roff.text([bold(name.as_str())]);
            roff.text([roman(meaning.as_str())]);
        }
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in extras.exit_status {
        roff.control("TP", []);
        roff.text([bold(code.to_string())]);
        roff.text([roman(*meaning)]);
    }
    if !extras.examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        for (what, line) in extras.examples {
            roff.control("TP", []);
            roff.text([roman(*what)]);
            roff.text([bold(*line)]);
        }
    }
    // The page's own preamble already defines the apostrophe string this one would repeat.
    let rendered = roff.render();
    let preamble = Roff::default().render();
    rendered
        .strip_prefix(preamble.as_str())
        .unwrap_or(&rendered)
        .to_string()
}
