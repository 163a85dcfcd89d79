//! The client certificate's CommonName as the auth user (etcd 3.4, v2http/client_auth.go
//! `userFromClientCertificate`): with `--client-cert-auth` and auth enabled, a request without
//! basic auth is the user its certificate names; basic auth, when given, wins; a name with no
//! such user is the guest.

use etcd_tests::tls::{Pki, https_client};

use super::{cert_auth_member, https_url, skip_real};

/// `PUT` a JSON body to the auth API as root (or as the certificate when `root` is false).
fn put_json(
    client: &reqwest::blocking::Client,
    url: &str,
    body: &str,
    root: bool,
) -> reqwest::blocking::Response {
    let mut req = client
        .put(url)
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if root {
        req = req.basic_auth("root", Some("rootpw"));
    }
    req.send().expect("auth request")
}

#[test]
fn the_certificate_common_name_is_the_user_when_no_basic_auth_is_given() {
    if skip_real() {
        return;
    }
    let pki = Pki::new();
    // CN "client": the user below. CN "server": no such user.
    let (d, client) = cert_auth_member(&pki);
    let nobody = https_client(&pki.ca, Some(&pki.server));
    let url = |p: &str| https_url(&d, p);
    let root = r#"{"user":"root","password":"rootpw"}"#;
    assert_eq!(
        put_json(&client, &url("/v2/auth/users/root"), root, false).status(),
        201
    );
    assert_eq!(
        client.put(url("/v2/auth/enable")).send().unwrap().status(),
        200
    );
    let role = r#"{"role":"foo","permissions":{"kv":{"read":["/foo*"],"write":["/foo*"]}}}"#;
    assert_eq!(
        put_json(&client, &url("/v2/auth/roles/foo"), role, true).status(),
        201
    );
    // etcd answers 200, not 201, to a user created with roles.
    let user = r#"{"user":"client","password":"clientpw","roles":["foo"]}"#;
    assert_eq!(
        put_json(&client, &url("/v2/auth/users/client"), user, true).status(),
        200
    );

    let put = |c: &reqwest::blocking::Client, key: &str, who: Option<(&str, &str)>| {
        let mut req = c.put(url(key)).form(&[("value", "v")]);
        if let Some((u, p)) = who {
            req = req.basic_auth(u, Some(p));
        }
        let r = req.send().expect("put");
        let status = r.status().as_u16();
        (status, r.text().unwrap_or_default())
    };
    assert_eq!(
        put(&client, "/v2/keys/foo", None).0,
        201,
        "the certificate's user writes /foo"
    );
    let (status, body) = put(&client, "/v2/keys/bar", None);
    assert_eq!(status, 401, "{body}");
    let e: serde_json::Value = serde_json::from_str(&body).expect("json error");
    assert_eq!(e["errorCode"], 110, "{body}");
    // Basic auth wins over the certificate, for better (root) and for worse (a bad password).
    assert_eq!(
        put(&client, "/v2/keys/bar", Some(("root", "rootpw"))).0,
        201
    );
    assert_eq!(
        put(&client, "/v2/keys/foo", Some(("client", "wrong"))).0,
        401
    );
    // Root access by certificate alone needs a user with the root role: "client" has none.
    let users = client.get(url("/v2/auth/users")).send().unwrap();
    assert_eq!(users.status(), 401);
    // A certificate naming no user is the guest, who may do anything until the role changes.
    assert_eq!(put(&nobody, "/v2/keys/bar", None).0, 200);
}
