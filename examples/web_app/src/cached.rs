//! The cached layer between the routes and their sources: one `#[cached]` function per
//! question the service asks SQLite or the weather upstream, with its lifetime and tags.
//!
//! This is the whole of the caching: the routes call these functions, the edit route drops
//! a user's entries with `memocache::invalidate_tag`, and `/stats` reads their handles.

use crate::db::{Db, DbError, Product, User};
use memocache::{CacheHandle, cached};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The product list changes rarely and may lag a minute behind. The pool is no part of
/// the key: there is one list.
#[cached(ttl = "1m", key = ())]
pub async fn product_list(db: &Db) -> Result<Arc<[Product]>, DbError> {
    Ok(db.products().await?.into())
}

/// One product, for ten minutes; `None` (no such product) is remembered too, so a scan of
/// missing ids does not reach the database each time.
#[cached(ttl = "10m", key = id)]
pub async fn product(db: &Db, id: i64) -> Result<Option<Arc<Product>>, DbError> {
    Ok(db.product(id).await?.map(Arc::new))
}

/// A profile, for an hour, or until the user is edited (tag `user:{id}`).
#[cached(ttl = "1h", key = id, tags = [format!("user:{id}")])]
pub async fn user(db: &Db, id: i64) -> Result<Option<Arc<User>>, DbError> {
    Ok(db.user(id).await?.map(Arc::new))
}

/// The profile page, built from the cached profile and tagged with the same user, so one
/// `invalidate_tag` drops both.
#[cached(ttl = "1h", key = id, tags = [format!("user:{id}")])]
pub async fn user_page(db: &Db, id: i64) -> Result<Option<Arc<str>>, DbError> {
    Ok(user(db, id).await?.map(|u| render_user_page(&u).into()))
}

/// After user `id`'s row changed: drops every cached answer about the user, on every
/// route (`invalidate_tag`); returns how many entries that dropped, and the profile as the
/// database now has it. Once `invalidate_tag` has returned, no call gets the old profile: a
/// read that was running meanwhile stores nothing, and a call that starts now runs the body.
pub async fn user_edited(db: &Db, id: i64) -> Result<(usize, Option<Arc<User>>), DbError> {
    let dropped = memocache::invalidate_tag(&format!("user:{id}"));
    let fresh = user(db, id).await?;
    Ok((dropped, fresh))
}

/// What the weather upstream answers.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Weather {
    /// The city asked for, as normalised by the route.
    pub city: String,
    /// "sunny", "cloudy", ...
    pub sky: &'static str,
    /// Degrees Celsius.
    pub temp_c: i32,
    /// When the upstream produced this answer (seconds since the Unix epoch).
    pub fetched_at: u64,
}

/// Calls that reached the weather upstream.
static UPSTREAM_CALLS: AtomicU64 = AtomicU64::new(0);

/// Calls that reached the weather upstream, in this process.
pub fn upstream_calls() -> u64 {
    UPSTREAM_CALLS.load(Ordering::Relaxed)
}

/// A forecast is good for a day; for an hour after that the old one is served at once
/// while a spawned task fetches the new one (the `tokio` feature of memocache).
#[cached(ttl = "1d", stale = "1h")]
pub async fn weather(city: &str) -> Weather {
    UPSTREAM_CALLS.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(50)).await; // the slow upstream
    let h = city
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let skies = ["sunny", "cloudy", "rain", "fog", "snow", "windy"];
    Weather {
        city: city.to_string(),
        sky: skies[(h as usize) % skies.len()],
        temp_c: (h % 35) as i32 - 5,
        fetched_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    }
}

/// The service's caches, in the order the dashboard shows them. (`memocache::caches()`
/// lists only the caches called so far, and none under `MEMOCACHE_DISABLE=1`; this list
/// is stable from the first request on.)
pub fn handles() -> [&'static CacheHandle; 5] {
    [
        product_list_cache(),
        product_cache(),
        user_cache(),
        user_page_cache(),
        weather_cache(),
    ]
}

fn render_user_page(u: &User) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{name}</title></head>\n\
         <body><h1>{name}</h1><p>user #{id} &middot; {email} &middot; edited {edits} times</p>\
         </body></html>\n",
        name = escape(&u.name),
        id = u.id,
        email = escape(&u.email),
        edits = u.edits
    )
}

/// Escapes text for HTML: user names are user input.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
