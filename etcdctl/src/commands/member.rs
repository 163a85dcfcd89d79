//! `member list|add|remove|update` (etcd: ctlv2/command/member_commands.go).
//!
//! These print plain `err.Error()` lines and exit 1 on any failure, exactly as etcdctl does;
//! they never use the `Error:  ` prefix.

use crate::client::ClientError;
use crate::output::{self, Exit};

use super::{Ctx, connect};

fn die(msg: &str) -> Exit {
    output::err_line(msg);
    Exit(1)
}

/// Go's `fmt.Println(err.Error())`.
fn die_err(e: &ClientError) -> Exit {
    die(&e.to_string())
}

/// etcd: pkg/types NewURLs validation of peer URLs.
fn check_urls(urls: &[String]) -> Result<(), String> {
    if urls.is_empty() {
        return Err("no valid URLs given".into());
    }
    for raw in urls {
        let u = raw.trim();
        let Some((scheme, rest)) = u.split_once("://") else {
            return Err(format!(
                "URL scheme must be http, https, unix, or unixs: {u}"
            ));
        };
        match scheme {
            "http" | "https" => {
                let (host, path) = match rest.find('/') {
                    Some(i) => (&rest[..i], &rest[i..]),
                    None => (rest, ""),
                };
                let has_port = host
                    .rsplit_once(':')
                    .is_some_and(|(h, _)| !h.is_empty() || host.starts_with(':'));
                if !has_port {
                    return Err(format!(
                        "URL address does not have the form \"host:port\": {u}"
                    ));
                }
                if !path.is_empty() {
                    return Err(format!("URL must not contain a path: {u}"));
                }
            }
            "unix" | "unixs" => {}
            _ => {
                return Err(format!(
                    "URL scheme must be http, https, unix, or unixs: {u}"
                ));
            }
        }
    }
    Ok(())
}

pub async fn list(ctx: &Ctx, args: &[String]) -> Result<(), Exit> {
    if !args.is_empty() {
        return Err(die("No arguments accepted"));
    }
    let mut c = connect(ctx).await?;
    let deadline = c.total_deadline();
    let members = c.member_list(deadline).await.map_err(|e| die_err(&e))?;
    let leader = c
        .member_leader(deadline)
        .await
        .map_err(|e| die(&format!("Failed to get leader:  {e}")))?;
    let mut s = String::new();
    for m in &members {
        if m.name.is_empty() {
            s.push_str(&format!(
                "{}[unstarted]: peerURLs={}\n",
                m.id,
                m.peer_urls.join(",")
            ));
        } else {
            s.push_str(&format!(
                "{}: name={} peerURLs={} clientURLs={} isLeader={}\n",
                m.id,
                m.name,
                m.peer_urls.join(","),
                m.client_urls.join(","),
                m.id == leader.id
            ));
        }
    }
    output::out(&s);
    Ok(())
}

pub async fn add(ctx: &Ctx, args: &[String]) -> Result<(), Exit> {
    if args.len() != 2 {
        return Err(die("Provide a name and a single member peerURL"));
    }
    let mut c = connect(ctx).await?;
    let (name, url) = (&args[0], &args[1]);
    let deadline = c.total_deadline();
    check_urls(std::slice::from_ref(url)).map_err(|e| die(&e))?;
    let m = c.member_add(deadline, url).await.map_err(|e| die_err(&e))?;
    output::out(&format!(
        "Added member named {name} with ID {} to cluster\n",
        m.id
    ));
    let members = c.member_list(deadline).await.map_err(|e| die_err(&e))?;
    let mut conf = Vec::new();
    for memb in &members {
        for u in &memb.peer_urls {
            let n = if memb.id == m.id { name } else { &memb.name };
            conf.push(format!("{n}={u}"));
        }
    }
    output::out(&format!(
        "\nETCD_NAME={}\nETCD_INITIAL_CLUSTER={}\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n",
        etcd_common::go::strconv::quote(name),
        etcd_common::go::strconv::quote(&conf.join(","))
    ));
    Ok(())
}

pub async fn remove(ctx: &Ctx, args: &[String]) -> Result<(), Exit> {
    if args.len() != 1 {
        return Err(die("Provide a single member ID"));
    }
    let id = &args[0];
    let mut c = connect(ctx).await?;
    let deadline = c.total_deadline();
    let members = c.member_list(deadline).await.map_err(|e| {
        die(&format!(
            "Error while verifying ID against known members: {e}"
        ))
    })?;
    let mut found = false;
    for m in &members {
        if &m.id == id {
            found = true;
        }
        if &m.name == id {
            output::err(&format!(
                "Found a member named {}; if this is correct, please use its ID, eg:\n\tetcdctl member remove {}\n",
                m.name, m.id
            ));
            output::err(
                "For more details, read the documentation at https://github.com/etcd-io/etcd/blob/master/Documentation/runtime-configuration.md#remove-a-member\n\n",
            );
        }
    }
    if !found {
        output::err(&format!(
            "Couldn't find a member in the cluster with an ID of {id}.\n"
        ));
        return Err(Exit(1));
    }
    if let Err(e) = c.member_remove(deadline, id).await {
        // etcdctl prints this one without a trailing newline.
        output::err(&format!(
            "Received an error trying to remove member {id}: {e}"
        ));
        return Err(Exit(1));
    }
    output::out(&format!("Removed member {id} from cluster\n"));
    Ok(())
}

pub async fn update(ctx: &Ctx, args: &[String]) -> Result<(), Exit> {
    if args.len() != 2 {
        return Err(die(
            "Provide an ID and a list of comma separated peerURL (0xabcd http://example.com,http://example1.com)",
        ));
    }
    let mut c = connect(ctx).await?;
    let (id, urls) = (&args[0], &args[1]);
    let urls: Vec<String> = urls.split(',').map(str::to_string).collect();
    check_urls(&urls).map_err(|e| die(&e))?;
    let deadline = c.total_deadline();
    c.member_update(deadline, id, &urls)
        .await
        .map_err(|e| die_err(&e))?;
    output::out(&format!("Updated member with ID {id} in cluster\n"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_urls;

    #[test]
    fn peer_url_validation_matches_etcd() {
        assert!(check_urls(&["http://127.0.0.1:2380".into()]).is_ok());
        assert_eq!(
            check_urls(&["notaurl".into()]).unwrap_err(),
            "URL scheme must be http, https, unix, or unixs: notaurl"
        );
        assert_eq!(
            check_urls(&["http://host".into()]).unwrap_err(),
            "URL address does not have the form \"host:port\": http://host"
        );
        assert_eq!(
            check_urls(&["http://h:1/p".into()]).unwrap_err(),
            "URL must not contain a path: http://h:1/p"
        );
    }
}
