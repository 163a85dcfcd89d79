//! etcd v2 errors: codes, messages, HTTP statuses and the JSON body.
//!
//! etcd: server/etcdserver/api/v2error/error.go. The messages are copied verbatim; clients match on
//! them.

use serde::{Deserialize, Serialize};

/// Every error code etcd v2 can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ErrorCode {
    KeyNotFound = 100,
    TestFailed = 101,
    NotFile = 102,
    NoMorePeer = 103,
    NotDir = 104,
    NodeExist = 105,
    KeyIsPreserved = 106,
    RootReadOnly = 107,
    DirNotEmpty = 108,
    ExistingPeerAddr = 109,
    Unauthorized = 110,
    ValueRequired = 200,
    PrevValueRequired = 201,
    TtlNaN = 202,
    IndexNaN = 203,
    ValueOrTtlRequired = 204,
    TimeoutNaN = 205,
    NameRequired = 206,
    IndexOrValueRequired = 207,
    IndexValueMutex = 208,
    InvalidField = 209,
    InvalidForm = 210,
    RefreshValue = 211,
    RefreshTtlRequired = 212,
    RaftInternal = 300,
    LeaderElect = 301,
    WatcherCleared = 400,
    EventIndexCleared = 401,
    StandbyInternal = 402,
    InvalidActiveSize = 403,
    InvalidRemoveDelay = 404,
    ClientInternal = 500,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 32] = [
        ErrorCode::KeyNotFound,
        ErrorCode::TestFailed,
        ErrorCode::NotFile,
        ErrorCode::NoMorePeer,
        ErrorCode::NotDir,
        ErrorCode::NodeExist,
        ErrorCode::KeyIsPreserved,
        ErrorCode::RootReadOnly,
        ErrorCode::DirNotEmpty,
        ErrorCode::ExistingPeerAddr,
        ErrorCode::Unauthorized,
        ErrorCode::ValueRequired,
        ErrorCode::PrevValueRequired,
        ErrorCode::TtlNaN,
        ErrorCode::IndexNaN,
        ErrorCode::ValueOrTtlRequired,
        ErrorCode::TimeoutNaN,
        ErrorCode::NameRequired,
        ErrorCode::IndexOrValueRequired,
        ErrorCode::IndexValueMutex,
        ErrorCode::InvalidField,
        ErrorCode::InvalidForm,
        ErrorCode::RefreshValue,
        ErrorCode::RefreshTtlRequired,
        ErrorCode::RaftInternal,
        ErrorCode::LeaderElect,
        ErrorCode::WatcherCleared,
        ErrorCode::EventIndexCleared,
        ErrorCode::StandbyInternal,
        ErrorCode::InvalidActiveSize,
        ErrorCode::InvalidRemoveDelay,
        ErrorCode::ClientInternal,
    ];

    pub fn code(self) -> u16 {
        self as u16
    }

    pub fn from_code(code: u16) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// etcd's exact message text for this code.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::KeyNotFound => "Key not found",
            ErrorCode::TestFailed => "Compare failed",
            ErrorCode::NotFile => "Not a file",
            ErrorCode::NoMorePeer => "Reached the max number of peers in the cluster",
            ErrorCode::NotDir => "Not a directory",
            ErrorCode::NodeExist => "Key already exists",
            ErrorCode::KeyIsPreserved => "The prefix of given key is a keyword in etcd",
            ErrorCode::RootReadOnly => "Root is read only",
            ErrorCode::DirNotEmpty => "Directory not empty",
            ErrorCode::ExistingPeerAddr => "Peer address has existed",
            ErrorCode::Unauthorized => "The request requires user authentication",
            ErrorCode::ValueRequired => "Value is Required in POST form",
            ErrorCode::PrevValueRequired => "PrevValue is Required in POST form",
            ErrorCode::TtlNaN => "The given TTL in POST form is not a number",
            ErrorCode::IndexNaN => "The given index in POST form is not a number",
            ErrorCode::ValueOrTtlRequired => "Value or TTL is required in POST form",
            ErrorCode::TimeoutNaN => "The given timeout in POST form is not a number",
            ErrorCode::NameRequired => "Name is required in POST form",
            ErrorCode::IndexOrValueRequired => "Index or value is required",
            ErrorCode::IndexValueMutex => "Index and value cannot both be specified",
            ErrorCode::InvalidField => "Invalid field",
            ErrorCode::InvalidForm => "Invalid POST form",
            ErrorCode::RefreshValue => "Value provided on refresh",
            ErrorCode::RefreshTtlRequired => "A TTL must be provided on refresh",
            ErrorCode::RaftInternal => "Raft Internal Error",
            ErrorCode::LeaderElect => "During Leader Election",
            ErrorCode::WatcherCleared => "watcher is cleared due to etcd recovery",
            ErrorCode::EventIndexCleared => "The event in requested index is outdated and cleared",
            ErrorCode::StandbyInternal => "Standby Internal Error",
            ErrorCode::InvalidActiveSize => "Invalid active size",
            ErrorCode::InvalidRemoveDelay => "Standby remove delay",
            ErrorCode::ClientInternal => "Client Internal Error",
        }
    }

    /// The HTTP status etcd answers with (`errorStatus` map; anything absent is 400).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::KeyNotFound => 404,
            ErrorCode::NotFile | ErrorCode::DirNotEmpty => 403,
            ErrorCode::Unauthorized => 401,
            ErrorCode::TestFailed | ErrorCode::NodeExist => 412,
            ErrorCode::RaftInternal | ErrorCode::LeaderElect => 500,
            _ => 400,
        }
    }
}

/// A v2 error as the store and the HTTP layer carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdError {
    pub code: ErrorCode,
    pub cause: String,
    /// The etcd index when the error happened (0 for request-parsing errors, as in etcd).
    pub index: u64,
}

impl EtcdError {
    pub fn new(code: ErrorCode, cause: impl Into<String>, index: u64) -> Self {
        EtcdError {
            code,
            cause: cause.into(),
            index,
        }
    }

    /// An error found while parsing the request, before the store was consulted.
    pub fn request(code: ErrorCode, cause: impl Into<String>) -> Self {
        Self::new(code, cause, 0)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error_code: self.code.code(),
            message: self.code.message().to_string(),
            cause: self.cause.clone(),
            index: self.index,
        }
    }

    /// The exact body etcd writes: Go's JSON (a `<` in the cause is `\u003c`) and a newline.
    pub fn to_json_line(&self) -> String {
        let mut s = crate::go::json::to_string(&self.body());
        s.push('\n');
        s
    }
}

impl std::fmt::Display for EtcdError {
    /// etcd's client formatting: `100: Key not found (/foo) [12]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} ({}) [{}]",
            self.code.code(),
            self.code.message(),
            self.cause,
            self.index
        )
    }
}

impl std::error::Error for EtcdError {}

/// The JSON shape of an error: `{"errorCode":100,"message":"…","cause":"…","index":6}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error_code: u16,
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cause: String,
    #[serde(default)]
    pub index: u64,
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} ({}) [{}]",
            self.error_code, self.message, self.cause, self.index
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_matches_etcd_bytes() {
        let e = EtcdError::new(ErrorCode::KeyNotFound, "/foo", 6);
        assert_eq!(
            e.to_json_line(),
            "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/foo\",\"index\":6}\n"
        );
        assert_eq!(e.to_string(), "100: Key not found (/foo) [6]");
    }

    #[test]
    fn statuses_follow_etcd_map() {
        assert_eq!(ErrorCode::KeyNotFound.http_status(), 404);
        assert_eq!(ErrorCode::DirNotEmpty.http_status(), 403);
        assert_eq!(ErrorCode::NodeExist.http_status(), 412);
        assert_eq!(ErrorCode::RootReadOnly.http_status(), 400);
        assert_eq!(ErrorCode::EventIndexCleared.http_status(), 400);
        assert_eq!(ErrorCode::LeaderElect.http_status(), 500);
    }

    #[test]
    fn codes_round_trip() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(c.code()), Some(c));
        }
        assert_eq!(ErrorCode::from_code(999), None);
    }
}
