//! Who is asking, and may they: HTTP basic credentials checked against the replicated auth
//! state (etcd: v2http/client_auth.go `userFromBasicAuth`, `hasRootAccess`,
//! `hasKeyPrefixAccess`, `hasGuestAccess`).
//!
//! bcrypt is slow on purpose (tens of milliseconds at cost 10), so checks run on the blocking
//! pool, a few at a time: a flood of bad passwords queues behind the permits and never holds an
//! async worker that other clients' requests need. Verified pairs are remembered (keyed by a
//! salted digest, never the password itself), so a client that authenticates every request
//! pays for bcrypt once.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::Extensions;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::Response;
use base64::Engine;
use etcd_common::{ErrorCode, EtcdError};
use sha1::{Digest, Sha1};
use tokio::sync::Semaphore;

use super::App;
use super::error::error_response;
use crate::store::auth::{AuthState, GUEST, ROOT, User};

/// The subject CommonName of the client certificate the TLS handshake verified (a certificate
/// is asked for, and verified against `--trusted-ca-file`, only with `--client-cert-auth`).
///
/// Only the leaf's name counts: etcd tries every certificate of Go's verified chain, CA
/// included, but a client may send certificates that verify nothing, and those must not name
/// a user.
#[derive(Debug, Clone)]
pub struct CertificateUser(pub Arc<str>);

/// Who a request says it is: its headers (for basic auth) and the name its verified client
/// certificate carries, if any. Built where the request is at hand and passed to every check.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    headers: &'a HeaderMap,
    certificate: Option<&'a str>,
}

impl<'a> Caller<'a> {
    pub fn new(headers: &'a HeaderMap, extensions: &'a Extensions) -> Caller<'a> {
        Caller {
            headers,
            certificate: extensions.get::<CertificateUser>().map(|c| &*c.0),
        }
    }

    pub fn of(req: &'a Request) -> Caller<'a> {
        Caller::new(req.headers(), req.extensions())
    }
}

/// etcd: `userFromClientCertificate` — the user the certificate names, if there is one.
fn user_from_client_certificate(auth: &AuthState, caller: Caller<'_>) -> Option<User> {
    let user = auth.user(caller.certificate?)?;
    tracing::debug!(user = %user.user, "auth: authenticated user by certificate common name");
    Some(user)
}

/// How many (user, hash, password) digests each of the two caches remembers before starting
/// afresh.
const CACHE_CAPACITY: usize = 1024;

/// Checks passwords against bcrypt hashes off the async workers, with bounded concurrency.
pub struct Verifier {
    permits: Semaphore,
    salt: [u8; 16],
    verified: Mutex<HashSet<[u8; 20]>>,
    /// Digests that failed. A client retrying with a wrong password (a stale config in a
    /// loop) is answered without a bcrypt run each time, so it cannot fill the permits' queue
    /// ahead of a right password. Kept apart from `verified`: a flood of distinct wrong
    /// passwords churns this set only, never the logins that worked.
    refused: Mutex<HashSet<[u8; 20]>>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    pub fn new() -> Verifier {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut salt = [0u8; 16];
        let random = RandomState::new();
        salt[..8].copy_from_slice(&random.hash_one(1u8).to_le_bytes());
        salt[8..].copy_from_slice(&random.hash_one(2u8).to_le_bytes());
        Verifier {
            // Leave at least half the cores to everything else.
            permits: Semaphore::new((cores / 2).max(1)),
            salt,
            verified: Mutex::new(HashSet::new()),
            refused: Mutex::new(HashSet::new()),
        }
    }

    fn digest(&self, user: &User, password: &str) -> [u8; 20] {
        let mut h = Sha1::new();
        h.update(self.salt);
        for part in [&user.user, &user.password, password] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }

    /// etcd: `CheckPassword` (bcrypt.CompareHashAndPassword).
    pub async fn check(&self, user: &User, password: &str) -> bool {
        let key = self.digest(user, password);
        if self.verified.lock().is_ok_and(|v| v.contains(&key)) {
            return true;
        }
        if self.refused.lock().is_ok_and(|r| r.contains(&key)) {
            return false;
        }
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let (hash, password) = (user.password.clone(), password.to_string());
        // A malformed hash fails every time, so it is remembered like a wrong password; a
        // task that did not finish (shutdown) is not.
        let Ok(outcome) =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash)).await
        else {
            return false;
        };
        let ok = outcome.unwrap_or(false);
        let cache = if ok { &self.verified } else { &self.refused };
        if let Ok(mut c) = cache.lock() {
            if c.len() >= CACHE_CAPACITY {
                c.clear();
            }
            c.insert(key);
        }
        ok
    }
}

/// What the request's `Authorization` header holds.
enum Presented {
    /// No header, or an empty one: the guest role applies.
    Nothing,
    /// Something that is not valid basic auth (Go's `BasicAuth` says !ok).
    Malformed,
    Basic {
        user: String,
        password: String,
    },
}

fn presented(headers: &HeaderMap) -> Presented {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Presented::Nothing;
    };
    if value.is_empty() {
        return Presented::Nothing;
    }
    parse_basic(value.as_bytes()).unwrap_or(Presented::Malformed)
}

/// Go's `parseBasicAuth`: a case-insensitive `Basic ` prefix, padded standard base64, and a
/// `user:password` split at the first colon.
fn parse_basic(value: &[u8]) -> Option<Presented> {
    const PREFIX: &[u8] = b"Basic ";
    let head = value.get(..PREFIX.len())?;
    if !head.eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&value[PREFIX.len()..])
        .ok()?;
    let text = String::from_utf8_lossy(&decoded);
    let (user, password) = text.split_once(':')?;
    Some(Presented::Basic {
        user: user.to_string(),
        password: password.to_string(),
    })
}

/// etcd: `userFromBasicAuth` — the user, if the credentials are well formed and right.
async fn user_from_basic_auth(app: &App, auth: &AuthState, headers: &HeaderMap) -> Option<User> {
    let Presented::Basic { user, password } = presented(headers) else {
        return None;
    };
    let found = auth.user(&user)?;
    if app.verifier.check(&found, &password).await {
        Some(found)
    } else {
        tracing::warn!(user = %user, "auth: incorrect password");
        None
    }
}

/// etcd: `hasRootAccess`. Open while auth is disabled.
pub async fn has_root_access(app: &App, caller: Caller<'_>) -> bool {
    let auth = app.cluster.auth();
    if !auth.enabled {
        return true;
    }
    let user = match presented(caller.headers) {
        Presented::Nothing => user_from_client_certificate(&auth, caller),
        _ => user_from_basic_auth(app, &auth, caller.headers).await,
    };
    user.is_some_and(|u| u.roles.iter().flatten().any(|r| r == ROOT))
}

/// etcd: `hasKeyPrefixAccess`, the check on every `/v2/keys` request. `key` is the request
/// path after `/v2/keys`; reads are GET and HEAD, everything else writes. Refused with etcd's
/// 401 errorCode 110.
pub async fn authorize_key(
    app: &App,
    caller: Caller<'_>,
    write: bool,
    key: &[u8],
    recursive: bool,
) -> Result<(), Response> {
    let auth = app.cluster.auth();
    if !auth.enabled || key_access(app, &auth, caller, write, key, recursive).await {
        return Ok(());
    }
    let e = EtcdError::new(ErrorCode::Unauthorized, "Insufficient credentials", 0);
    Err(error_response(&e))
}

async fn key_access(
    app: &App,
    auth: &AuthState,
    caller: Caller<'_>,
    write: bool,
    key: &[u8],
    recursive: bool,
) -> bool {
    let user = if let Presented::Nothing = presented(caller.headers) {
        match user_from_client_certificate(auth, caller) {
            Some(user) => user,
            // etcd: `hasGuestAccess`, which checks the key alone even for recursive requests.
            None => {
                return auth
                    .role(GUEST)
                    .is_some_and(|g| g.allows(key, write, false));
            }
        }
    } else {
        match user_from_basic_auth(app, auth, caller.headers).await {
            Some(user) => user,
            None => return false,
        }
    };
    let allowed = user
        .roles
        .iter()
        .flatten()
        .filter_map(|r| auth.role(r))
        .any(|role| role.allows(key, write, recursive));
    if !allowed {
        tracing::warn!(user = %user.user, key = %String::from_utf8_lossy(key), "auth: invalid access for user on key");
    }
    allowed
}

/// Shared by the router: one verifier per server.
pub fn verifier() -> Arc<Verifier> {
    Arc::new(Verifier::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> Option<(String, String)> {
        match parse_basic(s.as_bytes())? {
            Presented::Basic { user, password } => Some((user, password)),
            _ => None,
        }
    }

    fn user(password: &str) -> User {
        User {
            user: "alice".into(),
            password: bcrypt::hash(password, 4).unwrap(),
            roles: None,
        }
    }

    fn holds(set: &Mutex<HashSet<[u8; 20]>>, v: &Verifier, user: &User, password: &str) -> bool {
        set.lock().unwrap().contains(&v.digest(user, password))
    }

    #[tokio::test]
    async fn outcomes_are_remembered_apart_and_per_hash() {
        let v = Verifier::new();
        let alice = user("right");
        assert!(!v.check(&alice, "wrong").await);
        assert!(holds(&v.refused, &v, &alice, "wrong"));
        assert!(v.check(&alice, "right").await);
        assert!(holds(&v.verified, &v, &alice, "right"));
        // Churning the refusals (a flood of distinct wrong passwords) keeps the logins.
        for i in 0..=CACHE_CAPACITY {
            let key = v.digest(&alice, &i.to_string());
            v.refused.lock().unwrap().insert(key);
        }
        assert!(!v.check(&alice, "another").await);
        assert!(holds(&v.verified, &v, &alice, "right"));
        // A new password is a new hash: the old refusal does not hold against it.
        let changed = user("wrong");
        assert!(v.check(&changed, "wrong").await);
    }

    #[test]
    fn basic_auth_parses_as_go_does() {
        // "bob:pw:x" — the password may hold colons.
        assert_eq!(
            basic("basic Ym9iOnB3Ong="),
            Some(("bob".into(), "pw:x".into()))
        );
        assert_eq!(basic("Bearer Ym9iOnB3"), None);
        assert_eq!(basic("Basic Ym9i"), None, "no colon");
        assert_eq!(basic("Basic !!!"), None);
    }
}
