//! memocache's web example: a small shop's HTTP service on axum and SQLite, whose queries
//! are `#[cached]` functions, with a live dashboard of the caches and a load selftest.
//!
//! - [`db`]: the SQLite database and the count of the statements it executed;
//! - [`cached`]: the cached functions (the only place that knows about caching);
//! - [`routes`]: the HTTP routes and their errors; [`stats`]: `/stats` and `/metrics`;
//! - [`child`] and [`client`]: a server in a child process and an HTTP client, for the
//!   selftest and the tests; [`selftest`]: the load run and its table.
//!
//! See the README beside this package's `Cargo.toml`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cached;
pub mod child;
pub mod client;
pub mod db;
pub mod routes;
pub mod selftest;
pub mod stats;

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What every route shares: the database and the metrics registry.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Arc<db::Db>,
    /// What `/metrics` encodes.
    pub metrics: Arc<prometheus_client::registry::Registry>,
}

/// A running server.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The state its routes share.
    pub state: AppState,
    task: tokio::task::JoinHandle<io::Result<()>>,
}

impl Server {
    /// Serves until the task fails (it does not stop by itself).
    pub async fn wait(self) -> io::Result<()> {
        self.task.await.map_err(io::Error::other)?
    }

    /// Stops serving.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Opens (and seeds) the database at `db_path`, binds `addr` (port 0: a free one) and
/// serves on the current tokio runtime.
pub async fn start(addr: SocketAddr, db_path: &Path, query_delay: Duration) -> io::Result<Server> {
    let path = db_path.to_path_buf();
    let db = tokio::task::spawn_blocking(move || db::Db::open(&path, query_delay))
        .await
        .map_err(io::Error::other)?
        .map_err(io::Error::other)?;
    let db = Arc::new(db);
    let state = AppState {
        metrics: Arc::new(stats::registry(Arc::clone(&db))),
        db,
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = routes::router(state.clone());
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Server { addr, state, task })
}
