//! `#[invalidates(...)]` on the functions that change the data: each target form, when the
//! targets run (`Ok`, `Err`, `always`, a panic, `before`), arguments taken before the body,
//! `result`, methods. `async fn`s are in `invalidates/async_fns.rs`, the guarantee under
//! concurrency in `invalidates/concurrent.rs`, every form under strict lints in
//! `invalidates/strict.rs`.
//!
//! Each test has cached functions of its own: the tests of this file run in parallel.

#[path = "invalidates/async_fns.rs"]
mod async_fns;
#[path = "invalidates/concurrent.rs"]
mod concurrent;
#[path = "invalidates/strict.rs"]
#[deny(warnings, unused_qualifications, clippy::pedantic)]
mod strict;

use memocache::{cached, invalidates};
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

// A target `f(args)` calls whatever function named `invalidate_f` is in scope: the helper
// `#[cached]` generates, or, as here, a hand-written one that records its calls.
thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn log(event: impl Into<String>) {
    LOG.with(|l| l.borrow_mut().push(event.into()));
}

fn take_log() -> Vec<String> {
    LOG.with(|l| l.take())
}

fn invalidate_step(what: &str) -> bool {
    log(what);
    true
}

fn invalidate_seen(value: u32) -> bool {
    log(format!("seen {value}"));
    true
}

static PROFILE_VERSION: AtomicU32 = AtomicU32::new(0);

#[cached]
fn profile(id: u64) -> String {
    format!("{id} v{}", PROFILE_VERSION.load(Ordering::SeqCst))
}

#[invalidates(profile(id))]
fn edit_profile(id: u64) {
    PROFILE_VERSION.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn an_entry_target_drops_the_entry_its_arguments_name() {
    let (one, two) = (profile(1), profile(2));
    edit_profile(1);
    assert_ne!(profile(1), one, "the edited profile is read again");
    assert_eq!(profile(2), two, "the other entry stayed");
    let s = profile_cache().stats();
    assert_eq!(s.invalidations, 1, "counted where it landed");
    assert_eq!((s.misses, s.hits), (3, 1));
}

#[invalidates(step("first"), step("second"), step("third"))]
fn three_steps() {
    log("body");
}

#[invalidates(step("first"), step("second"), before)]
fn two_steps_twice() {
    log("body");
}

#[test]
fn targets_run_in_order_once_the_body_has_returned() {
    three_steps();
    assert_eq!(take_log(), ["body", "first", "second", "third"]);
    two_steps_twice();
    assert_eq!(take_log(), ["first", "second", "body", "first", "second"]);
}

#[invalidates(seen(n), seen(n + 1))]
fn add_ten(mut n: u32) -> u32 {
    n += 10;
    log("body");
    n
}

#[test]
fn arguments_are_taken_before_the_body_runs() {
    assert_eq!(add_ten(5), 15);
    assert_eq!(take_log(), ["body", "seen 5", "seen 6"]);
}

#[cached]
fn by_name(name: &str) -> usize {
    name.len()
}

#[cached]
fn by_owned_name(name: String) -> usize {
    name.len()
}

/// Not `Clone`: only its id can be copied out before the body consumes it.
struct NewUser {
    id: u64,
    name: String,
}

fn store(user: NewUser) -> u64 {
    user.id + user.name.len() as u64
}

#[cached]
fn account(id: u64) -> u64 {
    id
}

#[invalidates(by_name(&name), by_owned_name(name), account(user.id), by_name(&user.name))]
fn register(name: String, user: NewUser) -> u64 {
    let moved = name;
    store(user) + moved.len() as u64
}

#[test]
fn a_body_that_consumes_its_parameters_still_invalidates() {
    by_name("ada");
    by_name("lovelace");
    by_owned_name("ada".into());
    account(10);
    let user = NewUser {
        id: 10,
        name: "lovelace".into(),
    };
    assert_eq!(register("ada".into(), user), 21);
    assert!(by_name_cache().is_empty(), "`&name` and `&user.name`");
    assert!(by_owned_name_cache().is_empty(), "`name`, cloned");
    assert!(account_cache().is_empty(), "`user.id`");
}

#[cached]
fn balance(account: u64) -> u64 {
    account * 100
}

#[invalidates(balance(account))]
fn deposit(account: u64, amount: u64) -> Result<u64, String> {
    if amount == 0 {
        return Err("nothing to deposit".into());
    }
    Ok(amount)
}

#[invalidates(balance(account), always)]
fn withdraw(account: u64, amount: u64) -> Result<u64, String> {
    (amount <= 100)
        .then_some(amount)
        .ok_or_else(|| "not enough".to_owned())
}

#[test]
fn on_ok_only_unless_always() {
    balance(1);
    assert!(deposit(1, 0).is_err());
    assert_eq!(balance_cache().stats().invalidations, 0, "an Err runs none");
    assert_eq!(deposit(1, 5), Ok(5));
    assert_eq!(balance_cache().stats().invalidations, 1, "an Ok runs them");
    balance(1);
    assert!(withdraw(1, 1000).is_err());
    assert_eq!(
        balance_cache().stats().invalidations,
        2,
        "`always`: an Err too"
    );
}

#[cached]
fn stock(item: u32) -> u32 {
    item
}

#[invalidates(stock(item))]
fn sell(item: u32) -> Result<(), String> {
    if item == 0 {
        panic!("the write failed half-way");
    }
    Ok(())
}

#[invalidates(step("before and after"), before)]
fn explode() {
    panic!("boom");
}

#[test]
fn a_panic_in_the_body_runs_no_invalidation() {
    stock(0);
    assert!(catch_unwind(|| sell(0)).is_err());
    assert_eq!(stock_cache().stats().invalidations, 0);
    assert_eq!(stock_cache().len(), 1, "the entry stayed");
    assert!(catch_unwind(AssertUnwindSafe(explode)).is_err());
    assert_eq!(
        take_log(),
        ["before and after"],
        "only the run before the body"
    );
}

static TITLES: Mutex<Vec<&str>> = Mutex::new(Vec::new());

#[cached]
fn title(post: usize) -> String {
    TITLES.lock().unwrap()[post].to_owned()
}

/// The double delete: a reader that fills the cache from the old data while the write is
/// in flight (here, the body itself) does not outlive the write.
#[invalidates(title(post), before)]
fn retitle(post: usize, new: &'static str) {
    assert!(title_cache().is_empty(), "`before` ran first");
    assert_eq!(title(post), "draft", "a read during the write");
    TITLES.lock().unwrap()[post] = new;
}

#[test]
fn before_also_invalidates_before_the_body() {
    TITLES.lock().unwrap().push("draft");
    assert_eq!(title(0), "draft");
    retitle(0, "final");
    assert_eq!(title(0), "final");
    assert_eq!(title_cache().stats().invalidations, 2);
}

#[cached]
fn page(n: u32) -> u32 {
    n
}

#[cached(tags = [format!("author:{author}")])]
fn by_author(author: u32) -> u32 {
    author
}

#[cached(tags = [format!("author:{author}")])]
fn author_page(author: u32, n: u32) -> u32 {
    author * n
}

#[invalidates(all(page), tag(format!("author:{author}")))]
fn publish(author: u32) {}

#[test]
fn all_drops_every_entry_and_tag_every_labelled_one() {
    for n in 0..5 {
        page(n);
    }
    by_author(40);
    author_page(40, 1);
    author_page(41, 1);
    publish(40);
    assert!(page_cache().is_empty());
    assert!(by_author_cache().is_empty());
    assert_eq!(author_page_cache().len(), 1, "author 41 stayed");
}

#[derive(Clone, Debug, PartialEq)]
struct Order {
    id: u64,
}

static NEXT_ORDER: AtomicU64 = AtomicU64::new(100);

#[cached(tags = [format!("order:{id}")])]
fn order(id: u64) -> Option<Order> {
    (id < NEXT_ORDER.load(Ordering::SeqCst)).then_some(Order { id })
}

#[cached]
fn order_count() -> u64 {
    NEXT_ORDER.load(Ordering::SeqCst)
}

#[invalidates(order(result.id), tag(format!("order:{}", result.id)), all(order_count))]
fn place_order() -> Result<Order, String> {
    Ok(Order {
        id: NEXT_ORDER.fetch_add(1, Ordering::SeqCst),
    })
}

#[invalidates(seen(*result))]
fn next_number(n: u32) -> u32 {
    n + 1
}

#[test]
fn result_reads_what_the_body_returned() {
    let next = NEXT_ORDER.load(Ordering::SeqCst);
    assert_eq!(order(next), None, "a miss that is stored");
    order_count();
    let placed = place_order().unwrap();
    assert_eq!(placed.id, next);
    assert_eq!(order(next), Some(Order { id: next }), "read again");
    assert_eq!(order_count(), next + 1);
    assert_eq!(next_number(1), 2);
    assert_eq!(take_log(), ["seen 2"], "a plain value too");
}

struct Repo {
    tenant: u64,
    name: String,
    reads: AtomicU32,
}

impl Repo {
    #[cached]
    fn user(&self, id: u64) -> String {
        self.reads.fetch_add(1, Ordering::SeqCst);
        format!("user {id}")
    }

    #[cached(key = (self.tenant, id))]
    fn scoped(&self, id: u64) -> String {
        self.reads.fetch_add(1, Ordering::SeqCst);
        format!("user {id} of {}", self.tenant)
    }

    const KINDS: u8 = 4;

    #[cached]
    fn count(kind: u8) -> u8 {
        kind.min(Self::KINDS)
    }

    /// Changes `self` and returns a borrow of what it changed.
    #[invalidates(Self::user(id), all(Self::count))]
    fn rename(&mut self, id: u64, name: &str) -> &str {
        self.name = name.to_owned();
        &self.name
    }

    /// Returns a borrow of `self`, which the target `self.scoped(id)` reads after the body.
    #[invalidates(self.scoped(id))]
    fn name_of(&self, id: u64) -> &str {
        &self.name
    }
}

trait Writer {
    fn write(&self, id: u64);
}

// A trait impl is fine: `#[invalidates]` adds no item, only calls.
impl Writer for Repo {
    #[invalidates(Self::user(id))]
    fn write(&self, id: u64) {}
}

#[test]
fn methods_name_their_targets_by_self() {
    let mut repo = Repo {
        tenant: 3,
        name: String::new(),
        reads: AtomicU32::new(0),
    };
    repo.user(1);
    repo.scoped(1);
    Repo::count(0);
    assert_eq!(repo.rename(1, "ada"), "ada");
    assert!(Repo::user_cache().is_empty(), "`Self::user(id)`");
    assert!(Repo::count_cache().is_empty(), "`all(Self::count)`");
    assert_eq!(repo.name_of(1), "ada");
    assert!(Repo::scoped_cache().is_empty(), "`self.scoped(id)`");
    repo.user(2);
    repo.write(2);
    assert!(Repo::user_cache().is_empty(), "from a trait impl");
    assert_eq!(repo.reads.load(Ordering::SeqCst), 3);
}

#[cached]
fn square(n: u64) -> u64 {
    n * n
}

#[invalidates(square(n.into()))]
fn generic<N: Into<u64> + Copy>(n: N) -> u64 {
    n.into()
}

#[test]
fn generic_functions_work() {
    square(4);
    assert_eq!(generic(4_u8), 4);
    assert!(square_cache().is_empty());
}
