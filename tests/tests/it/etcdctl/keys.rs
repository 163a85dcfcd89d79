//! Key commands: exact simple output, errors and exit statuses, and missing arguments.

use super::*;

#[test]
// Over 80 lines on purpose: a table of requests and expected answers, read top to bottom.
fn key_commands_simple_output_and_errors() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    let b = etcd_index(&url);

    ok(c.run(&["set", "/foo", "bar"]), "bar\n"); // b+1
    ok(c.run(&["get", "/foo"]), "bar\n");
    expect(c.run(&["get", "/nope"]), "", &not_found("/nope", b + 1), 4);
    ok(c.run(&["mkdir", "/d"]), ""); // b+2
    expect(c.run(&["get", "/d"]), "", "/d: is a directory\n", 1);
    ok(c.run(&["set", "/d/a", "1"]), "1\n"); // b+3
    ok(c.run(&["mkdir", "/d/sub"]), ""); // b+4
    ok(c.run(&["ls", "--sort"]), "/d\n/foo\n");
    ok(c.run(&["ls", "--sort", "-p"]), "/d/\n/foo\n");
    ok(
        c.run(&["ls", "--sort", "-r", "/"]),
        "/d\n/d/a\n/d/sub\n/foo\n",
    );
    ok(c.run(&["ls", "--sort", "/d", "-p"]), "/d/a\n/d/sub/\n");
    ok(c.run(&["ls", "/foo"]), "/foo\n");
    expect(c.run(&["ls", "/nope"]), "", &not_found("/nope", b + 4), 4);

    expect(
        c.run(&["mk", "/foo", "x"]),
        "",
        &format!("Error:  105: Key already exists (/foo) [{}]\n", b + 4),
        4,
    );
    ok(c.run_stdin(&["mk", "/y"], b"line\n"), "line\n\n"); // b+5
    ok(c.run_stdin(&["set", "/x"], b"fromstdin"), "fromstdin\n"); // b+6
    expect(c.run(&["set", "/x"]), "", "Error:  value required\n", 1);
    expect(c.run(&["mk", "/x2"]), "", "Error:  value required\n", 1);
    expect(c.run(&["update", "/x"]), "", "Error:  value required\n", 1);
    expect(
        c.run(&["update", "/nokey", "v"]),
        "",
        &not_found("/nokey", b + 6),
        4,
    );
    ok(c.run(&["update", "/x", "u"]), "u\n"); // b+7

    ok(c.run(&["rm", "/foo"]), "PrevNode.Value: bar\n"); // b+8
    expect(
        c.run(&["rm", "/d"]),
        "",
        &format!("Error:  102: Not a file (/d) [{}]\n", b + 8),
        4,
    );
    expect(
        c.run(&["rm", "/d", "--dir"]),
        "",
        &format!("Error:  108: Directory not empty (/d) [{}]\n", b + 8),
        4,
    );
    ok(c.run(&["rm", "-r", "/d"]), ""); // b+9
    ok(c.run(&["rmdir", "/y"]), "PrevNode.Value: line\n\n"); // b+10

    ok(c.run(&["set", "/c", "1"]), "1\n"); // b+11
    expect(
        c.run(&["rm", "--with-value", "2", "/c"]),
        "",
        &format!("Error:  101: Compare failed ([2 != 1]) [{}]\n", b + 11),
        4,
    );
    expect(
        c.run(&["rm", "--with-index", "99", "/c"]),
        "",
        &format!(
            "Error:  101: Compare failed ([99 != {}]) [{}]\n",
            b + 11,
            b + 11
        ),
        4,
    );
    ok(c.run(&["rm", "--with-value", "1", "/c"]), "\n"); // b+12
    ok(c.run(&["set", "/c", "1"]), "1\n"); // b+13
    expect(
        c.run(&["set", "--swap-with-value", "2", "/c", "3"]),
        "",
        &format!("Error:  101: Compare failed ([2 != 1]) [{}]\n", b + 13),
        4,
    );
    expect(
        c.run(&["set", "--swap-with-index", "1", "/c", "3"]),
        "",
        &format!(
            "Error:  101: Compare failed ([1 != {}]) [{}]\n",
            b + 13,
            b + 13
        ),
        4,
    );
    ok(c.run(&["set", "--swap-with-value", "1", "/c", "3"]), "3\n"); // b+14

    ok(c.run(&["setdir", "/sd"]), ""); // b+15
    expect(
        c.run(&["setdir", "/sd"]),
        "",
        &format!("Error:  102: Not a file (/sd) [{}]\n", b + 15),
        4,
    );
    ok(c.run(&["updatedir", "--ttl", "50", "/sd"]), ""); // b+16
    expect(
        c.run(&["updatedir", "/nod"]),
        "",
        &not_found("/nod", b + 16),
        4,
    );
    expect(
        c.run(&["set", "/sd", "v"]),
        "",
        &format!("Error:  102: Not a file (/sd) [{}]\n", b + 16),
        4,
    );
    expect(
        c.run(&["mkdir", "/c"]),
        "",
        &format!("Error:  105: Key already exists (/c) [{}]\n", b + 16),
        4,
    );
    expect(
        c.run(&["get", "/c/x"]),
        "",
        &format!("Error:  104: Not a directory (/c) [{}]\n", b + 16),
        4,
    );
    ok(c.run(&["mk", "--in-order", "/q", "v1"]), "v1\n"); // b+17
    ok(c.run(&["ls", "/q"]), &format!("/q/{:020}\n", b + 17));
    ok(c.run(&["set", "--ttl", "100", "/t", "v"]), "v\n"); // b+18
    ok(c.run(&["get", "--quorum", "/t"]), "v\n");
}

#[test]
fn missing_arguments_are_exit_1() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    for cmd in [
        "get",
        "set",
        "mk",
        "mkdir",
        "setdir",
        "update",
        "updatedir",
        "rm",
        "rmdir",
        "watch",
    ] {
        expect(c.run(&[cmd]), "", "Error:  key required\n", 1);
    }
    expect(
        c.run(&["exec-watch", "/c"]),
        "",
        "Error:  key and command to exec required\n",
        1,
    );
    expect(
        c.run(&["member", "list", "x"]),
        "",
        "No arguments accepted\n",
        1,
    );
    expect(
        c.run(&["member", "add"]),
        "",
        "Provide a name and a single member peerURL\n",
        1,
    );
    expect(
        c.run(&["member", "remove"]),
        "",
        "Provide a single member ID\n",
        1,
    );
    expect(
        c.run(&["member", "update"]),
        "",
        "Provide an ID and a list of comma separated peerURL (0xabcd http://example.com,http://example1.com)\n",
        1,
    );
}
