//! The attribute's options, one behaviour each: capacity and LRU order, unbounded, key,
//! name, unless, cache_errors, Result and Option return types.

use memocache::cached;
use std::sync::atomic::{AtomicU32, Ordering};

static SQUARES: AtomicU32 = AtomicU32::new(0);

#[cached(capacity = 2)]
fn square(n: u64) -> u64 {
    SQUARES.fetch_add(1, Ordering::SeqCst);
    n * n
}

fn runs(counter: &AtomicU32) -> u32 {
    counter.load(Ordering::SeqCst)
}

#[test]
fn capacity_evicts_the_least_recently_used_entry() {
    square(1);
    square(2);
    square(1); // hit: 1 is now the most recently used
    square(3); // evicts 2
    assert_eq!(runs(&SQUARES), 3);
    square(1);
    assert_eq!(runs(&SQUARES), 3, "1 was kept");
    square(2);
    assert_eq!(runs(&SQUARES), 4, "2 was evicted");
    let s = square_cache().stats();
    assert_eq!(s.evictions, 2, "storing 2 again evicted 3");
    assert_eq!(square_cache().len(), 2);
}

#[cached(unbounded)]
fn identity(n: u64) -> u64 {
    n
}

#[test]
fn unbounded_keeps_more_than_the_default_capacity() {
    let n = memocache::DEFAULT_CAPACITY as u64 + 5_000;
    for i in 0..n {
        identity(i);
    }
    assert_eq!(identity_cache().len() as u64, n);
    assert_eq!(identity_cache().stats().evictions, 0);
}

#[cached]
fn default_bound(n: u64) -> u64 {
    n
}

#[test]
fn the_default_capacity_bounds_a_cache() {
    for i in 0..(memocache::DEFAULT_CAPACITY as u64 * 2) {
        default_bound(i);
    }
    assert!(default_bound_cache().len() <= memocache::DEFAULT_CAPACITY);
    assert!(default_bound_cache().stats().evictions >= memocache::DEFAULT_CAPACITY as u64);
}

static QUOTES: AtomicU32 = AtomicU32::new(0);

struct Http;

impl Http {
    fn get(&self, symbol: &str) -> f64 {
        QUOTES.fetch_add(1, Ordering::SeqCst);
        symbol.len() as f64
    }
}

#[cached(key = symbol.to_uppercase())]
fn quote(symbol: &str, client: &Http) -> f64 {
    client.get(symbol)
}

#[test]
fn key_expression_picks_what_identifies_a_call() {
    let http = Http;
    assert_eq!(quote("acme", &http), 4.0);
    assert_eq!(quote("ACME", &http), 4.0);
    assert_eq!(
        runs(&QUOTES),
        1,
        "the client is not part of the key, the case is folded"
    );
    // The helpers take only the parameters the key reads.
    assert!(invalidate_quote("Acme"));
    assert!(!invalidate_quote("Acme"));
    quote("acme", &http);
    assert_eq!(runs(&QUOTES), 2);
}

#[cached(key = format!("{user}/{item}"))]
fn cart_line(user: u32, item: &str, _verbose: bool) -> String {
    format!("{user} has {item}")
}

#[test]
fn key_expression_may_capture_parameters_in_a_format_string() {
    assert_eq!(cart_line(1, "pen", false), "1 has pen");
    assert_eq!(cart_line(1, "pen", true), "1 has pen");
    assert_eq!(cart_line_cache().stats().hits, 1);
    assert!(invalidate_cart_line(1, "pen"));
}

#[cached(name = "prices")]
fn named(n: u64) -> u64 {
    n
}

#[cached]
fn unnamed(n: u64) -> u64 {
    n
}

#[test]
fn name_sets_what_stats_and_the_registry_show() {
    assert_eq!(named_cache().name(), "prices");
    assert_eq!(unnamed_cache().name(), "options::unnamed");
}

static LOOKUPS: AtomicU32 = AtomicU32::new(0);

#[cached(unless = Option::is_none)]
fn find_user(id: u32) -> Option<String> {
    LOOKUPS.fetch_add(1, Ordering::SeqCst);
    (id < 10).then(|| format!("user {id}"))
}

#[test]
fn unless_returns_but_does_not_store() {
    assert_eq!(find_user(99), None);
    assert_eq!(find_user(99), None);
    assert_eq!(runs(&LOOKUPS), 2, "None was not stored");
    assert_eq!(find_user(1).as_deref(), Some("user 1"));
    assert_eq!(find_user(1).as_deref(), Some("user 1"));
    assert_eq!(runs(&LOOKUPS), 3, "Some was stored");
}

static OPTIONS: AtomicU32 = AtomicU32::new(0);

#[cached]
fn maybe(id: u32) -> Option<u32> {
    OPTIONS.fetch_add(1, Ordering::SeqCst);
    id.is_multiple_of(2).then_some(id)
}

#[test]
fn option_return_types_store_none_like_any_value() {
    assert_eq!(maybe(1), None);
    assert_eq!(maybe(1), None);
    assert_eq!(runs(&OPTIONS), 1);
}

static PARSES: AtomicU32 = AtomicU32::new(0);

#[cached]
fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
    PARSES.fetch_add(1, Ordering::SeqCst);
    s.parse()
}

#[test]
fn only_ok_is_stored_by_default() {
    assert!(parse("x").is_err());
    assert!(parse("x").is_err());
    assert_eq!(runs(&PARSES), 2, "Err was not stored");
    assert_eq!(parse("7"), Ok(7));
    assert_eq!(parse("7"), Ok(7));
    assert_eq!(runs(&PARSES), 3, "Ok was stored");
}

static READS: AtomicU32 = AtomicU32::new(0);

#[cached]
fn read_config(path: &str) -> std::io::Result<String> {
    READS.fetch_add(1, Ordering::SeqCst);
    if path.is_empty() {
        Err(std::io::Error::other("no path"))
    } else {
        Ok(format!("config of {path}"))
    }
}

#[test]
fn result_aliases_store_only_ok_too() {
    assert!(read_config("").is_err());
    assert!(read_config("").is_err());
    assert_eq!(runs(&READS), 2);
    read_config("a").unwrap();
    read_config("a").unwrap();
    assert_eq!(runs(&READS), 3);
}

static CHECKS: AtomicU32 = AtomicU32::new(0);

#[cached(cache_errors)]
fn check(n: u32) -> Result<u32, String> {
    CHECKS.fetch_add(1, Ordering::SeqCst);
    if n > 5 {
        Err(format!("{n} is too big"))
    } else {
        Ok(n)
    }
}

#[test]
fn cache_errors_stores_err_too() {
    assert_eq!(check(9), Err("9 is too big".to_string()));
    assert_eq!(check(9), Err("9 is too big".to_string()));
    assert_eq!(runs(&CHECKS), 1);
}

#[cached(capacity = 3, ttl = "1h", tti = "5m", single_flight = false, name = "everything", tags = ["all"], unless = |v: &u64| *v == 0)]
fn every_option(n: u64) -> u64 {
    n
}

#[test]
fn options_combine_in_any_order() {
    assert_eq!(every_option(0), 0);
    assert_eq!(every_option(1), 1);
    assert_eq!(every_option_cache().len(), 1, "0 was not stored");
    assert_eq!(every_option_cache().name(), "everything");
}

static NO_ARGS: AtomicU32 = AtomicU32::new(0);

#[cached]
fn no_arguments() -> u32 {
    NO_ARGS.fetch_add(1, Ordering::SeqCst) + 100
}

#[test]
fn a_function_without_parameters_has_one_entry() {
    assert_eq!(no_arguments(), 100);
    assert_eq!(no_arguments(), 100);
    assert!(invalidate_no_arguments());
    assert_eq!(no_arguments(), 101);
}

#[cached]
fn owned_and_borrowed(name: String, tags: &[u8], n: &u64, flag: bool) -> usize {
    name.len() + tags.len() + usize::try_from(*n).unwrap() + usize::from(flag)
}

#[test]
fn the_default_key_is_every_parameter_owned() {
    let name = String::from("abc");
    assert_eq!(owned_and_borrowed(name.clone(), &[1, 2], &3, true), 9);
    assert_eq!(owned_and_borrowed(name.clone(), &[1, 2], &3, true), 9);
    assert_eq!(owned_and_borrowed(name.clone(), &[1, 2], &3, false), 8);
    let s = owned_and_borrowed_cache().stats();
    assert_eq!((s.hits, s.misses), (1, 2));
    assert!(invalidate_owned_and_borrowed(name, &[1, 2], &3, true));
}

/// `key = <expr>` evaluating to a reference works like the default key: `key = symbol`
/// (`&str`), `key = &id`, and tuples of references and values.
/// A client of its own: `Http` counts calls for another test, which runs in parallel.
struct Quiet;

impl Quiet {
    fn get(&self, symbol: &str) -> f64 {
        symbol.len() as f64
    }
}

#[cached(key = symbol)]
fn quote_of(symbol: &str, client: &Quiet) -> f64 {
    client.get(symbol)
}

#[cached(key = &id)]
fn row(id: u64, _trace: bool) -> u64 {
    id * 2
}

#[cached(key = (symbol, page))]
fn page_of(symbol: &str, page: u32, client: &Quiet) -> String {
    format!("{symbol}:{page}:{}", client.get(symbol))
}

#[test]
fn key_expressions_may_borrow() {
    assert_eq!(quote_of("ab", &Quiet), 2.0);
    assert_eq!(quote_of(&String::from("ab"), &Quiet), 2.0);
    assert_eq!(quote_of_cache().stats().hits, 1);
    assert!(invalidate_quote_of("ab"));
    assert_eq!(row(4, true), 8);
    assert_eq!(row(4, false), 8);
    assert_eq!(
        row_cache().stats().hits,
        1,
        "the trace flag is not in the key"
    );
    assert!(invalidate_row(4));
    assert_eq!(page_of("ab", 1, &Quiet), "ab:1:2");
    assert_eq!(page_of("ab", 2, &Quiet), "ab:2:2");
    assert_eq!(page_of_cache().len(), 2);
    assert!(invalidate_page_of("ab", 2));
    assert!(!invalidate_page_of("ab", 2));
}

/// A body that reads a parameter only after `..` compiles (the parameter is not taken for
/// a field), with a key that does not read it.
#[cached(key = text.len())]
fn head(text: &str, n: usize) -> String {
    text[..n].to_owned()
}

struct Window {
    from: usize,
    to: usize,
}

#[cached(key = from)]
fn span(from: usize, base: Window) -> (usize, usize) {
    let w = Window { from, ..base };
    (w.from, w.to)
}

#[cached(key = n)]
fn total(n: u64, step: u64) -> u64 {
    (0..=n).step_by(usize::try_from(step).unwrap_or(1)).sum()
}

#[test]
fn bodies_may_read_parameters_after_a_range() {
    assert_eq!(head("abcdef", 2), "ab");
    assert_eq!(
        head("uvwxyz", 3),
        "ab",
        "same length, same key: the first result"
    );
    assert_eq!(span(1, Window { from: 9, to: 5 }), (1, 5));
    assert_eq!(total(4, 1), 10);
    assert_eq!(total(4, 2), 10, "the step is not in the key");
}

static WIDE: AtomicU32 = AtomicU32::new(0);

fn sum(parts: &[u8]) -> u32 {
    parts.iter().copied().map(u32::from).sum()
}

/// Twelve parameters: the most whose worker the runtime calls through a function pointer of
/// the same arity.
#[cached]
#[allow(clippy::too_many_arguments)]
fn w12(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8, h: u8, i: u8, j: u8, k: u8, l: u8) -> u32 {
    WIDE.fetch_add(1, Ordering::SeqCst);
    sum(&[a, b, c, d, e, f, g, h, i, j, k, l])
}

/// Thirteen (so the key is written): the worker is called through a closure of one tuple
/// instead.
#[cached(key = (a, m.clone()))]
#[allow(clippy::too_many_arguments)]
#[rustfmt::skip]
fn w13(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8, h: u8, i: u8, j: u8, k: u8, l: u8,
       mut m: String) -> String {
    WIDE.fetch_add(1, Ordering::SeqCst);
    m.push_str(&sum(&[a, b, c, d, e, f, g, h, i, j, k, l]).to_string());
    m
}

#[test]
fn functions_of_twelve_and_thirteen_parameters_are_cached_by_every_argument() {
    assert_eq!(w12(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), 78);
    assert_eq!(w12(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), 78);
    assert_eq!(w12(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13), 79);
    assert_eq!(
        w13(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "n".into()),
        "n78"
    );
    assert_eq!(
        w13(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "n".into()),
        "n78"
    );
    assert_eq!(
        w13(0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "n".into()),
        "n77"
    );
    assert_eq!(runs(&WIDE), 4, "two hits, four runs");
    assert_eq!(refresh_w12(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), 78);
    assert_eq!(
        refresh_w13(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "n".into()),
        "n78"
    );
    assert_eq!(runs(&WIDE), 6, "a refresh always runs");
}
