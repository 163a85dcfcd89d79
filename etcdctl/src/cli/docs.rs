//! What the man pages say beyond the flags: the environment etcdctl reads (and exec-watch
//! sets), and examples. The variable names here are the ones `commands` reads, so the pages
//! cannot name a variable the code ignores. Exit statuses live with the code that returns them
//! (`output::EXIT_STATUSES`).

/// An environment variable and what it means, as the man pages print it.
pub type Variable = (&'static str, &'static str);

pub const ENV_ENDPOINTS: Variable = (
    "ETCDCTL_ENDPOINTS",
    "Comma-separated member URLs, used when --endpoints is not given.",
);
pub const ENV_ENDPOINT: Variable = (
    "ETCDCTL_ENDPOINT",
    "DEPRECATED: used when neither --endpoints nor ETCDCTL_ENDPOINTS nor --endpoint is given.",
);
pub const ENV_PEERS: Variable = (
    "ETCDCTL_PEERS",
    "DEPRECATED: used when no endpoint flag or variable above is given.",
);
pub const ENV_USERNAME: Variable = (
    "ETCDCTL_USERNAME",
    "username[:password] when --username is not given; without a password, it is read from stdin.",
);
pub const ENV_DISCOVERY_SRV: Variable = (
    "ETCDCTL_DISCOVERY_SRV",
    "SRV discovery domain when --discovery-srv is not given (not supported: etcdctl exits 1).",
);
pub const ENV_CERT_FILE: Variable = (
    "ETCDCTL_CERT_FILE",
    "Client certificate (PEM) when --cert-file is not given.",
);
pub const ENV_KEY_FILE: Variable = (
    "ETCDCTL_KEY_FILE",
    "Client certificate's private key (PEM) when --key-file is not given.",
);
pub const ENV_CA_FILE: Variable = (
    "ETCDCTL_CA_FILE",
    "CA bundle (PEM) to verify https endpoints with when --ca-file is not given.",
);
pub const ENV_NO_COLOR: Variable = (
    "NO_COLOR",
    "When set and not empty, never colour output, even on a terminal (https://no-color.org).",
);
const ENV_API: Variable = (
    "ETCDCTL_API",
    "Ignored: this etcdctl speaks only the v2 API, which real etcdctl 3.4 selects with ETCDCTL_API=2.",
);

/// The variables every command reads, in the order the pages list them.
pub const ENVIRONMENT: &[Variable] = &[
    ENV_ENDPOINTS,
    ENV_ENDPOINT,
    ENV_PEERS,
    ENV_USERNAME,
    ENV_DISCOVERY_SRV,
    ENV_CERT_FILE,
    ENV_KEY_FILE,
    ENV_CA_FILE,
    ENV_API,
    ENV_NO_COLOR,
];

/// What exec-watch puts in its command's environment, one run per event.
pub const WATCH_ENVIRONMENT: &[Variable] = &[
    (
        "ETCD_WATCH_ACTION",
        "The event's action: set, create, update, delete, expire, compareAndSwap, compareAndDelete; \
         get when the event is the current value delivered after the server cleared the events \
         the watch had not yet seen.",
    ),
    ("ETCD_WATCH_KEY", "The key that changed."),
    (
        "ETCD_WATCH_VALUE",
        "Its new value (empty for a delete or an expiry).",
    ),
    ("ETCD_WATCH_MODIFIED_INDEX", "The event's modifiedIndex."),
];

/// (what it does, the command line) examples for the page of `command` (`etcdctl`,
/// `etcdctl-watch`, `etcdctl-member-list`, ... as the man pages are named).
pub fn examples(command: &str) -> &'static [(&'static str, &'static str)] {
    match command {
        "etcdctl" => &[
            (
                "Set a key, then read it back",
                "etcdctl set /config/level 3 && etcdctl get /config/level",
            ),
            (
                "Talk to a given cluster, printing JSON",
                "etcdctl --endpoints http://10.0.0.1:2379 -o json get /k",
            ),
            ("Wait for one change of /k", "etcdctl watch /k"),
        ],
        "etcdctl-get" => &[("Print a key's value", "etcdctl get /config/level")],
        "etcdctl-set" => &[
            (
                "Set a key that expires in 60 seconds",
                "etcdctl set --ttl 60 /lock me",
            ),
            (
                "Set only if the value is still old",
                "etcdctl set --swap-with-value old /k new",
            ),
        ],
        "etcdctl-mk" => &[("Create a key only if it does not exist", "etcdctl mk /k v")],
        "etcdctl-ls" => &[("List a tree, marking directories", "etcdctl ls -r -p /")],
        "etcdctl-rm" => &[(
            "Remove a directory and everything below it",
            "etcdctl rm -r /dir",
        )],
        "etcdctl-watch" => &[
            (
                "Print every change below /dir until interrupted",
                "etcdctl watch --forever -r /dir",
            ),
            (
                "Wait in a script until /ready says yes",
                "etcdctl watch --forever /ready | grep -m1 yes",
            ),
        ],
        "etcdctl-exec-watch" => &[(
            "Reload a service whenever its configuration changes",
            "etcdctl exec-watch /config -- sh -c 'echo \"$ETCD_WATCH_KEY=$ETCD_WATCH_VALUE\"; systemctl reload app'",
        )],
        "etcdctl-member-list" => &[("List the members", "etcdctl member list")],
        "etcdctl-member-add" => &[(
            "Announce a new member before starting it",
            "etcdctl member add infra3 http://10.0.0.3:2380",
        )],
        "etcdctl-cluster-health" => &[("Check every member once", "etcdctl cluster-health")],
        "etcdctl-backup" => &[
            (
                "Copy a stopped member's data under new ids",
                "etcdctl backup --data-dir /var/lib/etcd --backup-dir /backup/etcd",
            ),
            (
                "Start a new cluster of one from the copy",
                "etcd --data-dir /backup/etcd --force-new-cluster",
            ),
        ],
        _ => &[],
    }
}
