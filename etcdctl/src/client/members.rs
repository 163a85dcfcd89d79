//! The v2 members API (etcd: client/members.go).

use etcd_common::Member;
use etcd_common::go::path::join;
use reqwest::Method;
use tokio::time::Instant;

use super::Client;
use super::error::ClientError;
use super::requests::{Action, Body};

impl Client {
    pub async fn member_list(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Vec<Member>, ClientError> {
        let action = Action::new(Method::GET, "/v2/members".into());
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[200])?;
        #[derive(serde::Deserialize)]
        struct List {
            #[serde(default)]
            members: Option<Vec<Member>>,
        }
        let list: List =
            serde_json::from_slice(&resp.body).map_err(|e| ClientError::Other(e.to_string()))?;
        Ok(list.members.unwrap_or_default())
    }

    pub async fn member_leader(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Member, ClientError> {
        let action = Action::new(Method::GET, "/v2/members/leader".into());
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[200])?;
        serde_json::from_slice(&resp.body).map_err(|e| ClientError::Other(e.to_string()))
    }

    pub async fn member_add(
        &mut self,
        deadline: Option<Instant>,
        peer_url: &str,
    ) -> Result<Member, ClientError> {
        let mut action = Action::new(Method::POST, "/v2/members".into());
        action.body = Some(Body::Json(peer_urls_json(&[peer_url.to_string()])));
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[201, 409])?;
        if resp.status != 201 {
            return Err(members_error(&resp.body));
        }
        serde_json::from_slice(&resp.body).map_err(|e| ClientError::Other(e.to_string()))
    }

    pub async fn member_remove(
        &mut self,
        deadline: Option<Instant>,
        id: &str,
    ) -> Result<(), ClientError> {
        let action = Action::new(Method::DELETE, join("/v2/members", id));
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[204, 410])
    }

    pub async fn member_update(
        &mut self,
        deadline: Option<Instant>,
        id: &str,
        peer_urls: &[String],
    ) -> Result<(), ClientError> {
        let mut action = Action::new(Method::PUT, join("/v2/members", id));
        action.body = Some(Body::Json(peer_urls_json(peer_urls)));
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[204, 404, 409])?;
        if resp.status != 204 {
            return Err(members_error(&resp.body));
        }
        Ok(())
    }
}

fn assert_status(got: u16, want: &[u16]) -> Result<(), ClientError> {
    if want.contains(&got) {
        Ok(())
    } else {
        Err(ClientError::Other(format!("unexpected status code {got}")))
    }
}

fn members_error(body: &[u8]) -> ClientError {
    #[derive(serde::Deserialize)]
    struct MembersError {
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<MembersError>(body) {
        Ok(m) => ClientError::Other(m.message),
        Err(e) => ClientError::Other(e.to_string()),
    }
}

fn peer_urls_json(urls: &[String]) -> String {
    #[derive(serde::Serialize)]
    struct Req<'a> {
        #[serde(rename = "peerURLs")]
        peer_urls: &'a [String],
    }
    let mut sorted = urls.to_vec();
    sorted.sort();
    etcd_common::go::json::to_string(&Req { peer_urls: &sorted })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_bodies_match_go_client() {
        assert_eq!(
            peer_urls_json(&["http://b:2380".into(), "http://a:2380".into()]),
            r#"{"peerURLs":["http://a:2380","http://b:2380"]}"#
        );
    }
}
