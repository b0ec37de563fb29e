//! The three sticky notes on the monitor of a web service's developer:
//!
//! 1. "the weather forecast changes once a day"      -> `#[cached(ttl = "1d")]`
//! 2. "a stock price is good for five minutes"      -> `#[cached(ttl = "5m")]`
//! 3. "a profile is stale the moment it is edited"  -> `#[invalidates(...)]` on the edit
//!
//! Each trip to the "store" below is a real slow call (20-50 ms). The program prints every
//! call, whether it was a hit or a miss and how long it took, then the stats of every cache.
//! Everything runs in process memory: no server.
//!
//! Run it with `cargo run --release --example sticky_notes`.

use memocache::testing::advance_clock;
use memocache::{CacheHandle, cached, invalidates};
use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A slow upstream: the weather office, the stock exchange, the user database.
fn trip_to_the_store(ms: u64) {
    sleep(Duration::from_millis(ms));
}

/// Note 1: the forecast is published once a day.
#[cached(ttl = "1d")]
fn forecast(city: &str) -> String {
    trip_to_the_store(50);
    let sky = if city.starts_with('L') {
        "sunny"
    } else {
        "rain"
    };
    format!("{sky}, {}°C", 10 + city.len())
}

/// Why a price could not be fetched.
#[derive(Debug)]
struct FetchError(String);

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fetch failed: {}", self.0)
    }
}

/// Note 2: a stock price is good for five minutes; a failed fetch is not remembered.
#[cached(ttl = "5m", key = symbol.to_uppercase())]
fn stock_price(symbol: &str) -> Result<f64, FetchError> {
    trip_to_the_store(30);
    if symbol.is_empty() {
        return Err(FetchError("empty symbol".into()));
    }
    let minutes = CLOCK_MINUTES.lock().map_or(0, |m| *m);
    Ok(100.0 + symbol.len() as f64 + minutes as f64 / 10.0)
}

/// Minutes the story has advanced the cache clock by (prices drift with time).
static CLOCK_MINUTES: Mutex<u64> = Mutex::new(0);

/// The user database.
static USERS: LazyLock<Mutex<HashMap<u64, String>>> = LazyLock::new(|| {
    Mutex::new(HashMap::from([
        (1, "Ada".to_string()),
        (2, "Grace".to_string()),
    ]))
});

/// Note 3: a profile is tossed the moment it is edited, by key or by tag.
#[cached(tags = [format!("user:{id}")])]
fn profile(id: u64) -> Option<String> {
    trip_to_the_store(20);
    let users = USERS.lock().ok()?;
    users.get(&id).map(|name| format!("{name} (#{id})"))
}

/// The page that shows a user's profile, cached too, and tagged with the same user.
#[cached(tags = [format!("user:{id}")])]
fn profile_page(id: u64) -> String {
    trip_to_the_store(25);
    format!(
        "<h1>{}</h1>",
        profile(id).unwrap_or_else(|| "nobody".into())
    )
}

/// The edit as it was first written: the caller must remember every cache that shows the
/// name, and it forgot the page.
fn rename_by_hand(id: u64, name: &str) {
    if let Ok(mut users) = USERS.lock() {
        users.insert(id, name.to_string());
    }
}

/// The edit that says what it makes stale: once it has returned `Ok`, no read of either
/// cache gets the old name. An `Err` (no such user) changed nothing and tosses nothing.
#[invalidates(profile(id), profile_page(id))]
fn rename(id: u64, name: &str) -> Result<(), String> {
    let mut users = USERS.lock().map_err(|e| e.to_string())?;
    let user = users.get_mut(&id).ok_or(format!("no user #{id}"))?;
    *user = name.to_string();
    Ok(())
}

/// Everything cached about a user carries the tag `user:<id>`.
#[invalidates(tag(format!("user:{id}")))]
fn remove_user(id: u64) {
    if let Ok(mut users) = USERS.lock() {
        users.remove(&id);
    }
}

fn pass_minutes(m: u64) {
    advance_clock(Duration::from_secs(m * 60));
    if let Ok(mut total) = CLOCK_MINUTES.lock() {
        *total += m;
    }
}

/// Prints one row per call: what was called, what it returned, hit or miss, how long.
struct Table {
    row: usize,
}

impl Table {
    fn new() -> Self {
        println!(
            "{:>3}  {:<34} {:<28} {:<5} {:>9}",
            "#", "call", "result", "", "time"
        );
        println!("{}", "-".repeat(84));
        Table { row: 0 }
    }

    fn call<R: fmt::Debug>(&mut self, what: &str, cache: &CacheHandle, f: impl FnOnce() -> R) {
        let misses = cache.stats().misses;
        let start = Instant::now();
        let result = f();
        let took = start.elapsed();
        let kind = if cache.stats().misses > misses {
            "miss"
        } else {
            "hit"
        };
        self.print_row(what, &result, kind, took);
    }

    /// A call that writes: neither a hit nor a miss.
    fn write<R: fmt::Debug>(&mut self, what: &str, f: impl FnOnce() -> R) {
        let start = Instant::now();
        let result = f();
        self.print_row(what, &result, "write", start.elapsed());
    }

    fn print_row(&mut self, what: &str, result: &impl fmt::Debug, kind: &str, took: Duration) {
        self.row += 1;
        let mut shown: String = format!("{result:?}");
        if shown.chars().count() > 28 {
            shown = shown.chars().take(25).chain("...".chars()).collect();
        }
        let time = if took.as_millis() > 0 {
            format!("{:.1} ms", took.as_secs_f64() * 1e3)
        } else {
            format!("{:.1} µs", took.as_secs_f64() * 1e6)
        };
        println!(
            "{:>3}  {what:<34} {shown:<28} {kind:<5} {time:>9}",
            self.row
        );
    }

    fn note(&self, text: &str) {
        println!("     -- {text}");
    }
}

fn main() {
    let mut t = Table::new();

    t.note("note 1: the forecast, cached for a day");
    t.call("forecast(\"Oslo\")", forecast_cache(), || forecast("Oslo"));
    t.call("forecast(\"Oslo\")", forecast_cache(), || forecast("Oslo"));
    t.call("forecast(\"Lisbon\")", forecast_cache(), || {
        forecast("Lisbon")
    });
    pass_minutes(23 * 60);
    t.note("23 hours later (the cache clock moved; nobody waited)");
    t.call("forecast(\"Oslo\")", forecast_cache(), || forecast("Oslo"));
    pass_minutes(60);
    t.note("a day after it was stored");
    t.call("forecast(\"Oslo\")", forecast_cache(), || forecast("Oslo"));

    t.note("note 2: a stock price, five minutes; errors are not stored");
    t.call("stock_price(\"ACME\")", stock_price_cache(), || {
        stock_price("ACME")
    });
    t.call(
        "stock_price(\"acme\") same key",
        stock_price_cache(),
        || stock_price("acme"),
    );
    t.call("stock_price(\"\")", stock_price_cache(), || stock_price(""));
    t.call("stock_price(\"\") again", stock_price_cache(), || {
        stock_price("")
    });
    pass_minutes(4);
    t.note("4 minutes later");
    t.call("stock_price(\"ACME\")", stock_price_cache(), || {
        stock_price("ACME")
    });
    pass_minutes(1);
    t.note("5 minutes after the fetch");
    t.call("stock_price(\"ACME\")", stock_price_cache(), || {
        stock_price("ACME")
    });

    t.note("note 3: a profile, tossed the moment it is edited");
    t.call("profile(1)", profile_cache(), || profile(1));
    t.call("profile(1)", profile_cache(), || profile(1));
    t.call("profile_page(1)", profile_page_cache(), || profile_page(1));
    t.call("profile_page(1)", profile_page_cache(), || profile_page(1));
    rename_by_hand(1, "Ada Lovelace");
    let dropped = invalidate_profile(1);
    t.note("renamed by hand, then invalidate_profile(1); the page was forgotten");
    t.call("profile(1)", profile_cache(), || profile(1));
    t.call(
        "profile_page(1): the old page!",
        profile_page_cache(),
        || profile_page(1),
    );
    t.note("rename(1, ..) carries #[invalidates(profile(id), profile_page(id))]");
    t.write("rename(1, \"Countess Lovelace\")", || {
        rename(1, "Countess Lovelace")
    });
    t.call("profile(1)", profile_cache(), || profile(1));
    t.call("profile_page(1)", profile_page_cache(), || profile_page(1));
    t.call("profile_page(1)", profile_page_cache(), || profile_page(1));
    t.write("rename(3, ..): no such user", || rename(3, "Nobody"));
    t.call("profile(1): an Err tossed nothing", profile_cache(), || {
        profile(1)
    });
    t.note("remove_user(1) carries #[invalidates(tag(format!(\"user:{id}\")))]");
    t.write("remove_user(1)", || remove_user(1));
    t.call("profile(1)", profile_cache(), || profile(1));
    t.call("profile_page(1)", profile_page_cache(), || profile_page(1));
    t.call("profile(2)", profile_cache(), || profile(2));
    assert!(dropped, "the first edit found profile 1 cached");

    println!(
        "     (a hit here includes cold CPU caches; warm hits take nanoseconds: BENCHMARKS.md)"
    );
    println!();
    println!(
        "{:<40} {:>7} {:>5} {:>6} {:>8} {:>7} {:>6}",
        "cache", "entries", "hits", "misses", "hit rate", "expired", "inval."
    );
    println!("{}", "-".repeat(84));
    for cache in memocache::caches() {
        let s = cache.stats();
        println!(
            "{:<40} {:>7} {:>5} {:>6} {:>7.0}% {:>7} {:>6}",
            cache.name(),
            cache.len(),
            s.hits,
            s.misses,
            s.hit_ratio() * 100.0,
            s.expirations,
            s.invalidations
        );
    }
}
