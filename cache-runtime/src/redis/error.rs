//! The Redis tier's error type: what went wrong, and whether it means Redis is unreachable
//! (which the circuit breaker counts) or only that one request was refused.

use std::fmt;
use std::sync::Arc;

/// What kind of failure an [`Error`] reports.
///
/// ```
/// use cache_runtime::redis::{Config, ErrorKind};
///
/// let err = Config::from_url("http://127.0.0.1/").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Config);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is invalid: a malformed URL, an unsupported scheme, no nodes.
    Config,
    /// [`init`](super::init) was called when the configuration was already set, by an earlier
    /// `init` or by the first use of Redis (which reads `MEMOCACHE_REDIS_URL`).
    AlreadyInitialized,
    /// Redis did not answer within the operation timeout (or could not be connected to
    /// within the connect timeout).
    Timeout,
    /// The connection failed: refused, reset, closed by the server.
    Connection,
    /// Redis was not asked: after consecutive failures the circuit breaker skips it until a
    /// background `PING` succeeds again.
    Unavailable,
    /// Redis answered with an error, or with a reply of an unexpected shape.
    Server,
    /// A key or value could not be serialized.
    Encode,
}

/// An error of the Redis tier. Cached functions never return it: they run their body
/// instead (fail-open). It is returned by [`init`](super::init) and the [`Config`](super::Config)
/// constructors.
///
/// ```
/// use cache_runtime::redis::{Config, ErrorKind};
///
/// let err = Config::cluster(Vec::<String>::new()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Config);
/// assert!(err.to_string().contains("no node"));
/// ```
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    /// Whether this failure says that Redis is unreachable or unhealthy (the breaker's input),
    /// rather than that one request was refused.
    outage: bool,
    detail: Arc<str>,
}

impl Error {
    /// What kind of failure this is.
    ///
    /// ```
    /// use cache_runtime::redis::{Config, ErrorKind};
    ///
    /// let kind = Config::from_url("redis://host:notaport/").unwrap_err().kind();
    /// assert_eq!(kind, ErrorKind::Config);
    /// ```
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub(crate) fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        let outage = matches!(
            kind,
            ErrorKind::Timeout | ErrorKind::Connection | ErrorKind::Unavailable
        );
        Error {
            kind,
            outage,
            detail: Arc::from(detail.into()),
        }
    }

    pub(crate) fn config(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, detail)
    }

    pub(crate) fn timeout() -> Self {
        Error::new(ErrorKind::Timeout, "no answer within the operation timeout")
    }

    pub(crate) fn server(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::Server, detail)
    }

    /// A reply that does not have the shape the request expects.
    pub(crate) fn protocol(what: &str) -> Self {
        Error::new(ErrorKind::Server, format!("unexpected reply to {what}"))
    }

    /// Whether the circuit breaker should count this failure.
    pub(crate) fn is_outage(&self) -> bool {
        self.outage
    }

    /// Whether retrying on a fresh connection may succeed: the connection broke before an
    /// answer, and this is not a timeout (a timed-out request may still run on the server).
    pub(crate) fn is_dropped_connection(&self) -> bool {
        self.kind == ErrorKind::Connection
    }
}

impl From<redis::RedisError> for Error {
    fn from(e: redis::RedisError) -> Self {
        use redis::{ErrorKind as K, ServerErrorKind as S};
        let detail = e.to_string();
        if e.is_timeout() {
            return Error::new(ErrorKind::Timeout, detail);
        }
        if e.is_connection_refusal() || e.is_connection_dropped() || e.is_io_error() {
            return Error::new(ErrorKind::Connection, detail);
        }
        match e.kind() {
            K::InvalidClientConfig => Error::config(detail),
            K::ClusterConnectionNotFound => Error::new(ErrorKind::Connection, detail),
            // The server is there but cannot serve: loading its data, no master, a cluster
            // that lost coverage, a failover in progress, a script hogging it.
            K::Server(S::BusyLoading)
            | K::Server(S::ClusterDown)
            | K::Server(S::MasterDown)
            | K::Server(S::TryAgain)
            | K::Server(S::ReadOnly) => Error {
                kind: ErrorKind::Server,
                outage: true,
                detail: Arc::from(detail),
            },
            K::Server(_) if e.code() == Some("BUSY") => Error {
                kind: ErrorKind::Server,
                outage: true,
                detail: Arc::from(detail),
            },
            _ => Error::server(detail),
        }
    }
}

impl From<redis::ServerError> for Error {
    fn from(e: redis::ServerError) -> Self {
        Error::from(redis::RedisError::from(e))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Config => "invalid Redis configuration",
            ErrorKind::AlreadyInitialized => "Redis already configured",
            ErrorKind::Timeout => "Redis timed out",
            ErrorKind::Connection => "Redis connection failed",
            ErrorKind::Unavailable => "Redis skipped",
            ErrorKind::Server => "Redis error",
            ErrorKind::Encode => "cannot encode for Redis",
        };
        write!(f, "{what}: {}", self.detail)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("detail", &&*self.detail)
            .finish()
    }
}

impl std::error::Error for Error {}
