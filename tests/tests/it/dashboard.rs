//! etcd 0.4's dashboard (`/mod/dashboard`, with `--enable-mod`): served as 0.4 served it, and
//! used in headless Chromium as an operator would — the key browser lists, enters, creates,
//! modifies and deletes nodes (the server's state checked after each), and the stats page
//! shows the leader and every follower's latency and raft counts on a three-member cluster.
//! Real etcd 3.4 has no dashboard, so these run against ours only.

use std::time::Duration;

use etcd_tests::browser::{Browser, chromium};
use etcd_tests::cluster::Cluster;
use etcd_tests::{Api, Daemon, Server, running_real};

/// A page's poll (5 s for the key browser) plus its rendering, with room for a loaded machine.
const PAGE: Duration = Duration::from_secs(30);

#[test]
fn the_dashboard_is_served_as_0_4_served_it() {
    if running_real() {
        return;
    }
    let s = Server::start_with(&["--enable-mod"]);
    let r = s.get("/mod/dashboard");
    assert_eq!(r.status, 302, "{r:?}");
    assert_eq!(r.header("Location"), Some("/mod/dashboard/"));
    assert_eq!(r.body, "<a href=\"/mod/dashboard/\">Found</a>.\n\n");
    // Every page of the app is the app: it routes browser and stats itself.
    for page in [
        "/mod/dashboard/",
        "/mod/dashboard/browser",
        "/mod/dashboard/stats",
        "/mod/dashboard/x/y",
    ] {
        let r = s.get(page);
        assert_eq!(r.status, 200, "{page}: {r:?}");
        assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
        assert!(r.body.contains("/mod/dashboard/static/app.js"), "{page}");
    }
    for (asset, ty) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
    ] {
        let r = s.get(&format!("/mod/dashboard/static/{asset}"));
        assert_eq!(
            (r.status, r.header("Content-Type")),
            (200, Some(ty)),
            "{asset}"
        );
    }
    for (asset, shown) in [
        ("nope.js", "static/nope.js"),
        ("..%2F..%2Fetc%2Fpasswd", "static/../../etc/passwd"),
    ] {
        let r = s.get(&format!("/mod/dashboard/static/{asset}"));
        assert_eq!(r.status, 404, "{asset}: {r:?}");
        assert_eq!(r.body, format!("{shown}: File not found\n"));
    }
    // Without the flag there is no dashboard, as in etcd 3.4.
    let plain = Server::start();
    let r = plain.get("/mod/dashboard/");
    assert_eq!((r.status, r.body.as_str()), (404, "404 page not found\n"));
}

#[test]
fn etcd_dashboard_dir_serves_the_app_from_disk() {
    if running_real() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("static")).expect("mkdir");
    std::fs::write(dir.path().join("index.html"), "<p>mine</p>").expect("write");
    std::fs::write(dir.path().join("static/app.js"), "mine()").expect("write");
    let mut d = Daemon::new(
        etcd_tests::etcd_bin(),
        "default".into(),
        etcd_tests::Endpoints::new(),
        vec!["--enable-mod".into()],
    );
    d.env.push((
        "ETCD_DASHBOARD_DIR".into(),
        dir.path().display().to_string(),
    ));
    d.spawn();
    d.wait_ready();
    assert_eq!(d.get("/mod/dashboard/browser").body, "<p>mine</p>");
    let r = d.get("/mod/dashboard/static/app.js");
    assert_eq!(
        (r.body.as_str(), r.header("Content-Type")),
        ("mine()", Some("text/javascript; charset=utf-8"))
    );
    let r = d.get("/mod/dashboard/static/app.css");
    assert_eq!(
        (r.status, r.body.as_str()),
        (404, "static/app.css: File not found\n")
    );
}

/// Clicks the first element matching `selector`.
fn click(b: &mut Browser, selector: &str) {
    let found = b.eval(&format!(
        "(() => {{ const e = document.querySelector({selector:?}); if (e) e.click(); return !!e; }})()"
    ));
    assert_eq!(found, true, "nothing matches {selector}");
}

/// Fills the open dialog's fields (a select gets its change event, as a user's pick would).
fn fill(b: &mut Browser, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        let done = b.eval(&format!(
            "(() => {{ const e = document.querySelector('#dialog-form [name={name}]'); if (!e) return false; \
             e.value = {value:?}; e.dispatchEvent(new Event('change')); return true; }})()"
        ));
        assert_eq!(done, true, "no field {name} in the dialog");
    }
}

/// The key table's rows, a line each: `key | value | ttl`.
const ROWS: &str = "[...document.querySelectorAll('#keys tr[data-key]')].map(r => [...r.querySelectorAll('td')].slice(0, 3).map(c => c.textContent).join(' | ')).join('\\n')";

fn wait_rows(b: &mut Browser, want: &str) {
    b.wait(PAGE, want, &format!("{ROWS} === {want:?}"));
}

#[test]
fn the_key_browser_lists_enters_creates_modifies_and_deletes() {
    if running_real() {
        return;
    }
    let Some(chromium) = chromium() else { return };
    let s = Server::start_with(&["--enable-mod"]);
    s.put("/v2/keys/dir/a", &[("value", "hello")]);
    s.put("/v2/keys/top", &[("value", "1")]);
    let mut b = Browser::launch(&chromium);

    // The dashboard's root is its key browser.
    b.open(&s.url("/mod/dashboard"));
    b.wait(
        PAGE,
        "the browser's route",
        "location.pathname === '/mod/dashboard/browser'",
    );
    wait_rows(&mut b, "dir/ | -- | --\ntop | 1 | --");

    // Into a directory, by its name; the breadcrumb leads back.
    click(&mut b, "#keys tr[data-key='/dir'] .dir");
    wait_rows(&mut b, "a | hello | --");
    assert_eq!(
        b.eval("document.querySelector('.crumbs').textContent"),
        "root / dir"
    );

    // Create a key with a TTL, and a directory.
    click(&mut b, "#create");
    fill(&mut b, &[("key", "new"), ("value", "v"), ("ttl", "300")]);
    click(&mut b, "#dialog-ok");
    b.wait(
        PAGE,
        "the new key",
        "!!document.querySelector(\"#keys tr[data-key='/dir/new']\")",
    );
    let r = s.get("/v2/keys/dir/new");
    assert_eq!(r.json()["node"]["value"], "v", "{r:?}");
    let ttl = r.json()["node"]["ttl"].as_u64().unwrap_or_default();
    assert!((1..=300).contains(&ttl), "{r:?}");
    click(&mut b, "#create");
    fill(&mut b, &[("key", "sub"), ("type", "Directory")]);
    assert_eq!(
        b.eval("document.querySelector('#dialog-form [name=value]').disabled"),
        true
    );
    click(&mut b, "#dialog-ok");
    b.wait(
        PAGE,
        "the new directory",
        "!!document.querySelector(\"#keys tr[data-key='/dir/sub'] .dir\")",
    );
    assert_eq!(s.get("/v2/keys/dir/sub").json()["node"]["dir"], true);

    // Modify a key: the server has the new value and the cell shows it changed.
    click(&mut b, "#keys tr[data-key='/dir/a'] .modify");
    assert_eq!(
        b.eval("document.querySelector('#dialog-form [name=value]').value"),
        "hello"
    );
    fill(&mut b, &[("value", "changed")]);
    click(&mut b, "#dialog-ok");
    b.wait(
        PAGE,
        "the changed cell",
        "document.querySelector(\"#keys tr[data-key='/dir/a'] td.value.changed\")?.textContent === 'changed'",
    );
    assert_eq!(s.get("/v2/keys/dir/a").json()["node"]["value"], "changed");

    // A directory's TTL.
    click(&mut b, "#keys tr[data-key='/dir/sub'] .modify-ttl");
    fill(&mut b, &[("ttl", "600")]);
    click(&mut b, "#dialog-ok");
    b.wait(
        PAGE,
        "the directory's TTL",
        "+document.querySelector(\"#keys tr[data-key='/dir/sub'] td.ttl\")?.textContent > 0",
    );
    let ttl = s.get("/v2/keys/dir/sub").json()["node"]["ttl"]
        .as_u64()
        .unwrap_or_default();
    assert!((1..=600).contains(&ttl), "ttl {ttl}");

    // Details list the node's properties.
    click(&mut b, "#keys tr[data-key='/dir/a'] .details");
    let shown = b.eval("document.querySelector('#dialog-form table').textContent");
    assert!(
        shown.as_str().unwrap_or_default().contains("key/dir/a"),
        "{shown}"
    );
    click(&mut b, "#dialog-ok");

    // Delete a key, then a directory with something in it (recursively).
    s.put("/v2/keys/dir/sub/inner", &[("value", "x")]);
    click(&mut b, "#keys tr[data-key='/dir/new'] .delete");
    click(&mut b, "#dialog-ok");
    b.wait(
        PAGE,
        "the key gone",
        "!document.querySelector(\"#keys tr[data-key='/dir/new']\")",
    );
    assert_eq!(s.get("/v2/keys/dir/new").status, 404);
    click(&mut b, "#keys tr[data-key='/dir/sub'] .delete");
    click(&mut b, "#dialog-ok");
    wait_rows(&mut b, "a | changed | --");
    assert_eq!(s.get("/v2/keys/dir/sub").status, 404);

    // The server's refusal is shown as it words it, and nothing changes.
    click(&mut b, ".crumbs a");
    wait_rows(&mut b, "dir/ | -- | --\ntop | 1 | --");
    click(&mut b, "#create");
    fill(&mut b, &[("key", "dir"), ("value", "x")]);
    click(&mut b, "#dialog-ok");
    b.wait(
        PAGE,
        "the error toast",
        "document.querySelector('#toasts .toast')?.textContent === 'Not a file'",
    );
    assert_eq!(s.get("/v2/keys/dir").json()["node"]["dir"], true);
}

#[test]
fn the_stats_page_shows_the_leader_and_each_follower() {
    if running_real() {
        return;
    }
    let Some(chromium) = chromium() else { return };
    let c = Cluster::start_with(3, &["--enable-mod"]);
    let l = c.leader();
    let f = c.follower();
    let list = c.member_list();
    let name_of = |id: &str| -> String {
        list.iter()
            .find(|m| m["id"] == id)
            .and_then(|m| m["name"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let leader_name = name_of(&c.id(l));
    let mut followers: Vec<String> = (0..3)
        .filter(|&i| i != l)
        .map(|i| name_of(&c.id(i)))
        .collect();
    followers.sort();
    // A write, so each follower has counted successful appends.
    c.members[l].put("/v2/keys/x", &[("value", "1")]);

    // Served by a follower: the stats come from the leader.
    let mut b = Browser::launch(&chromium);
    b.open(&c.members[f].url("/mod/dashboard/stats"));
    b.wait(
        PAGE,
        "the leader's name",
        &format!("document.querySelector('#leader-name').textContent === {leader_name:?}"),
    );
    b.wait(
        PAGE,
        "the leader's uptime",
        "/s$/.test(document.querySelector('#leader-uptime').textContent)",
    );
    b.wait(
        PAGE,
        "two followers",
        "document.querySelectorAll('#followers tr[data-id]').length === 2",
    );
    let names = b.eval("[...document.querySelectorAll('#followers tr[data-id] .peer')].map(a => a.textContent).sort()");
    assert_eq!(names, serde_json::json!(followers));
    let cells = b.eval(
        "[...document.querySelectorAll('#followers tr[data-id]')].every(r => /^\\d+\\.\\d ms$/.test(r.querySelector('.latency').textContent) && /^\\d+ failures, [1-9]\\d* successes$/.test(r.querySelector('.counts').textContent))",
    );
    assert_eq!(
        cells,
        true,
        "{}",
        b.eval("document.querySelector('#followers').textContent")
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#latency-chart .bar').length"),
        2
    );

    // A follower's name opens its own /v2/stats/self.
    click(&mut b, "#followers tr[data-id] .peer");
    let shown = b.wait(
        PAGE,
        "the peer's stats",
        "document.querySelector('#dialog[open] table')?.textContent",
    );
    let first = b.eval("document.querySelector('#followers tr[data-id] .peer').textContent");
    let first = first.as_str().unwrap_or_default();
    assert!(
        shown
            .as_str()
            .unwrap_or_default()
            .contains(&format!("name{first}")),
        "{shown}"
    );
    assert!(
        shown.as_str().unwrap_or_default().contains("StateFollower"),
        "{shown}"
    );
}
