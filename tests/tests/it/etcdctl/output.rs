//! Output formats: `-o json`, `-o extended`, and `--debug`'s curl commands.

use super::*;

#[test]
// Over 80 lines on purpose: a table of requests and expected answers, read top to bottom.
fn json_and_extended_output() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    let b = etcd_index(&url);

    ok(c.run(&["set", "/foo", "bar"]), "bar\n"); // b+1
    ok(
        c.run(&["-o", "json", "set", "/foo", "a&<b>"]), // b+2
        &format!(
            "{{\"action\":\"set\",\"node\":{{\"key\":\"/foo\",\"value\":\"a\\u0026\\u003cb\\u003e\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}},\"prevNode\":{{\"key\":\"/foo\",\"value\":\"bar\",\"nodes\":null,\"createdIndex\":{1},\"modifiedIndex\":{1}}}}}\n",
            b + 2,
            b + 1
        ),
    );
    ok(
        c.run(&["-o", "json", "get", "/foo"]),
        &format!(
            "{{\"action\":\"get\",\"node\":{{\"key\":\"/foo\",\"value\":\"a\\u0026\\u003cb\\u003e\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}},\"prevNode\":null}}\n",
            b + 2
        ),
    );
    ok(
        c.run(&["-o", "json", "mkdir", "/d2"]), // b+3
        &format!(
            "{{\"action\":\"create\",\"node\":{{\"key\":\"/d2\",\"dir\":true,\"value\":\"\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}},\"prevNode\":null}}\n",
            b + 3
        ),
    );
    ok(
        c.run(&["-o", "json", "ls", "/d2"]),
        &format!(
            "{{\"action\":\"get\",\"node\":{{\"key\":\"/d2\",\"dir\":true,\"value\":\"\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}},\"prevNode\":null}}\n",
            b + 3
        ),
    );
    ok(
        c.run(&["-o", "json", "rm", "--dir", "/d2"]), // b+4
        &format!(
            "{{\"action\":\"delete\",\"node\":{{\"key\":\"/d2\",\"dir\":true,\"value\":\"\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{1}}},\"prevNode\":{{\"key\":\"/d2\",\"dir\":true,\"value\":\"\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}}}}\n",
            b + 3,
            b + 4
        ),
    );
    // Real etcdctl never prints errors as JSON (its type check misses client.Error values).
    expect(
        c.run(&["-o", "json", "get", "/nope"]),
        "",
        &not_found("/nope", b + 4),
        4,
    );
    expect(
        c.run(&["-o", "yaml", "get", "/foo"]),
        "",
        "Unsupported output format: yaml\n",
        0,
    );

    // Extended: everything exact except the raft index and term, which only have to be numbers.
    let o = c.run(&["-o", "extended", "set", "/foo", "v3"]); // b+5
    assert_eq!((o.stderr.as_str(), o.code), ("", 0));
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 10, "unexpected extended output:\n{}", o.stdout);
    assert_eq!(
        lines[..6],
        [
            "Key: /foo".to_string(),
            format!("Created-Index: {}", b + 5),
            format!("Modified-Index: {}", b + 5),
            "PrevNode.Value: a&<b>".to_string(),
            "TTL: 0".to_string(),
            format!("Etcd-Index: {}", b + 5),
        ]
    );
    for (line, prefix) in [(lines[6], "Raft-Index: "), (lines[7], "Raft-Term: ")] {
        let n = line.strip_prefix(prefix).unwrap_or("x");
        assert!(n.parse::<u64>().is_ok(), "bad line {line:?}");
    }
    assert_eq!(lines[8..], ["", "v3"]);
    assert!(o.stdout.ends_with("v3\n"));

    let o = c.run(&["-o", "extended", "get", "/foo"]);
    assert_eq!(o.code, 0);
    assert!(
        !o.stdout.contains("PrevNode.Value"),
        "get has no previous node:\n{}",
        o.stdout
    );
    let o = c.run(&["-o", "extended", "rm", "/foo"]); // b+6
    assert_eq!(o.code, 0);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 8, "a delete has no value block:\n{}", o.stdout);
    assert_eq!(lines[3], "PrevNode.Value: v3");
    assert_eq!(lines[5], format!("Etcd-Index: {}", b + 6));
}

#[test]
// Over 80 lines on purpose: a table of requests and expected answers, read top to bottom.
fn debug_prints_curl_commands() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    let m = members(&url);
    let published = m[0].client_urls.join(",");
    let first = m[0].client_urls[0].clone();
    ok(c.run(&["set", "/c", "v"]), "v\n");
    expect(
        c.run(&["--debug", "get", "/c"]),
        "v\n",
        &format!(
            "start to sync cluster using endpoints({url})\n\
             cURL Command: curl -X GET {url}/v2/members\n\
             got endpoints({published}) after sync\n\
             Cluster-Endpoints: {}\n\
             cURL Command: curl -X GET {first}/v2/keys/c?quorum=false&recursive=false&sorted=false\n",
            m[0].client_urls.join(", ")
        ),
        0,
    );
    expect(
        c.run(&["--debug", "--no-sync", "set", "/c", "a b&c"]),
        "a b&c\n",
        &format!(
            "Cluster-Endpoints: {url}\n\
             cURL Command: curl -X PUT {url}/v2/keys/c -d \"value=a+b%26c\"\n"
        ),
        0,
    );
    let o = c.run(&[
        "--debug",
        "--no-sync",
        "mk",
        "--in-order",
        "--ttl",
        "5",
        "/q",
        "x y",
    ]);
    assert_eq!(o.code, 0);
    assert_eq!(
        o.stderr,
        format!(
            "Cluster-Endpoints: {url}\ncURL Command: curl -X POST {url}/v2/keys/q -d \"ttl=5&value=x+y\"\n"
        )
    );
    let o = c.run(&[
        "--debug",
        "--no-sync",
        "rm",
        "--with-value",
        "a b",
        "--with-index",
        "3",
        "-r",
        "--dir",
        "/zz",
    ]);
    assert_eq!(o.code, 4);
    assert!(
        o.stderr.contains(&format!(
            "cURL Command: curl -X DELETE {url}/v2/keys/zz?dir=true&prevIndex=3&prevValue=a+b&recursive=true\n"
        )),
        "{}",
        o.stderr
    );
    let o = c.run(&["--debug", "--no-sync", "mkdir", "/dbg"]);
    assert_eq!(
        o.stderr,
        format!(
            "Cluster-Endpoints: {url}\ncURL Command: curl -X PUT {url}/v2/keys/dbg?dir=true&prevExist=false -d \"\"\n"
        )
    );
    let o = c.run(&[
        "--debug",
        "--no-sync",
        "watch",
        "--after-index",
        "1",
        "-r",
        "/c",
    ]);
    assert!(
        o.stderr.contains(&format!(
            "cURL Command: curl -X GET {url}/v2/keys/c?recursive=true&wait=true&waitIndex=2\n"
        )),
        "{}",
        o.stderr
    );
}
