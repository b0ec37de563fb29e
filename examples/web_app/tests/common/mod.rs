//! What the tests share: a server of their own in a child process (so that each test's
//! caches and counters are its own, whatever runs beside it) and readers of `/stats`.

#![allow(dead_code)] // each test binary uses its own part

use serde_json::Value;
use std::path::Path;
use web_app::child::ChildServer;
use web_app::client::Client;

/// A fresh server (empty caches, a newly seeded database) and a client of it.
pub fn server(args: &[&str]) -> (ChildServer, Client) {
    let exe = Path::new(env!("CARGO_BIN_EXE_web_app"));
    let server = ChildServer::start(exe, args, &[]).expect("the server starts");
    let client = Client::new(server.addr);
    (server, client)
}

/// `GET /stats`, parsed.
pub async fn stats(c: &Client) -> Value {
    let r = c.get("/stats").await.expect("/stats answers");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().expect("/stats is JSON")
}

/// SQL statements the server has executed.
pub async fn db_queries(c: &Client) -> u64 {
    stats(c).await["db_queries"]
        .as_u64()
        .expect("db_queries is a number")
}

/// The row of `/stats` for the cache named `web_app::cached::<short>`.
pub fn cache<'a>(stats: &'a Value, short: &str) -> &'a Value {
    let name = format!("web_app::cached::{short}");
    stats["caches"]
        .as_array()
        .expect("caches is an array")
        .iter()
        .find(|c| c["name"] == name.as_str())
        .unwrap_or_else(|| panic!("no cache {name} in {stats}"))
}

/// `hits` and `misses` of a cache.
pub fn hits_misses(stats: &Value, short: &str) -> (u64, u64) {
    let c = cache(stats, short);
    (
        c["hits"].as_u64().expect("hits"),
        c["misses"].as_u64().expect("misses"),
    )
}

/// `GET path`, expecting 200, parsed as JSON.
pub async fn get_json(c: &Client, path: &str) -> Value {
    let r = c.get(path).await.expect("an answer");
    assert_eq!(r.status, 200, "GET {path}: {}", r.body);
    r.json().expect("JSON")
}
