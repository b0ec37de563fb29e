//! Single-flight: one run of the body per missing key, with every other caller of that key
//! parked (a thread on a condvar, a task by its waker) until the run ends.
//!
//! A flight is joinable while it sits in its shard's list of flights. An invalidation of its
//! key (or a `clear`, a tag it may carry, a `refresh_*` of its key) *detaches* it: takes it out
//! of the list and cancels it, under the shard's lock. Callers that joined before keep
//! waiting and get its value (they were concurrent with the invalidation); callers that come
//! after cannot find it and start a run of their own; and the cancelled run stores nothing.

use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::sync::{BlockingMutex as Mutex, Condvar, ThreadId, thread_id as me};
use std::any::Any;
use std::mem;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

/// A flight's state, locked (a panic under its lock leaves it as it was: no poisoning). A
/// `match`, not `unwrap_or_else`: nothing more to compile per value type.
macro_rules! lock {
    ($state:expr) => {
        match $state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    };
}

/// One run of a body for one key, shared by the caller running it and those waiting.
///
/// What does not depend on the key and value types (the leader's thread, the cancel flag,
/// the remote tier's counts, the tags) is its [`Header`], which it derefs to: compiled once,
/// here, not in each crate that caches a function of new types.
pub(crate) struct Flight<K, V> {
    /// The key's hash: which shard the flight is in.
    pub(crate) hash: u64,
    /// The key, which the shard's list of flights compares.
    pub(crate) key: K,
    header: Header,
    state: Mutex<State<V>>,
    done: Condvar,
}

/// What a flight holds whatever its key and value types.
pub(crate) struct Header {
    /// The thread that started the run: a body that calls itself on the same key must not
    /// wait for itself.
    owner: Option<ThreadId>,
    /// Set when the flight was detached (see the module's doc): its result must not be stored.
    cancelled: AtomicBool,
    /// The requests the leader sent to the remote tier whose answer may become the run's
    /// value, counted: a caller that joins after request `n` was sent may not take an answer
    /// to it (it may predate an invalidation made in another process that this caller must
    /// see), only one to a later request (see [`Header::joined`]).
    sends: AtomicU64,
    /// The highest count of sends seen by a caller that joined (the leader looks again for
    /// them, once, when it is not below its last send).
    late: AtomicU64,
    /// Which send the run's value answers (0: none, the value came from no remote read).
    answers: AtomicU64,
    /// The tags the run's entry will carry, once the run has started (a tag invalidation
    /// detaches a flight whose tags it does not know yet).
    tags: OnceLock<Vec<String>>,
}

impl<K, V> Deref for Flight<K, V> {
    type Target = Header;
    #[inline]
    fn deref(&self) -> &Header {
        &self.header
    }
}

enum State<V> {
    /// The body runs; tasks to wake when it ends.
    Running(Vec<Waker>),
    /// The body ended with this for the waiters.
    Done(Outcome<V>),
}

/// What a finished run hands the callers that waited for it.
#[derive(Clone)]
pub(crate) enum Outcome<V> {
    /// The value, stored or not (an `unless` may have refused it).
    Value(V),
    /// An `Err` the callers share: a clone of the leader's error, for a policy that shares
    /// them (see [`crate::policy::Policy::share_error`]).
    Error(Arc<dyn Any + Send + Sync>),
    /// Nothing to share (the body panicked, was cancelled, or returned an error that is not
    /// shared): a waiter looks again, and maybe runs the body itself.
    Retry,
}

impl<K, V> Flight<K, V> {
    pub(crate) fn new(hash: u64, key: K) -> Self {
        Flight {
            hash,
            key,
            header: Header::new(),
            state: Mutex::new(State::Running(Vec::new())),
            done: Condvar::new(),
        }
    }

    /// Makes a finished flight, that no one else holds, a new one for `key`: a miss then
    /// needs no allocation.
    // Forced inline in optimised builds: part of every miss.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn reuse(&mut self, hash: u64, key: K) {
        self.hash = hash;
        self.key = key;
        self.header.reset();
        let state = match self.state.get_mut() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        match state {
            State::Running(wakers) => wakers.clear(),
            State::Done(_) => *state = State::Running(Vec::new()),
        }
    }

    /// Ends the run and wakes every waiter.
    pub(crate) fn finish(&self, value: Outcome<V>) {
        let wakers = {
            let mut state = lock!(self.state);
            match mem::replace(&mut *state, State::Done(value)) {
                State::Running(w) => w,
                State::Done(_) => Vec::new(),
            }
        };
        wake(&self.done, wakers);
    }
}

/// Wakes the threads parked on `done` and the tasks of `wakers`.
fn wake(done: &Condvar, wakers: Vec<Waker>) {
    done.notify_all();
    for w in wakers {
        w.wake();
    }
}

/// Inlined in optimised builds only (the hot ones): a debug build of a crate that caches a
/// function then compiles none of them.
impl Header {
    #[cfg_attr(not(debug_assertions), inline)]
    fn new() -> Self {
        Header {
            owner: me(),
            cancelled: AtomicBool::new(false),
            sends: AtomicU64::new(0),
            late: AtomicU64::new(0),
            answers: AtomicU64::new(0),
            tags: OnceLock::new(),
        }
    }

    /// A new run's header, in place.
    #[cfg_attr(not(debug_assertions), inline)]
    fn reset(&mut self) {
        self.owner = me();
        self.cancelled = AtomicBool::new(false);
        self.sends = AtomicU64::new(0);
        self.late = AtomicU64::new(0);
        self.answers = AtomicU64::new(0);
        self.tags.take();
    }

    /// Whether the calling thread started this run (a same-key recursion).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn started_on_this_thread(&self) -> bool {
        self.owner.is_some() && self.owner == me()
    }

    /// Marks the run's result as not to be stored; called under the shard's lock, as the
    /// flight leaves the list.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    /// The leader is about to send a request whose answer may become the value: its number.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn send(&self) -> u64 {
        self.sends.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Whether a caller joined after send `n` (the leader then looks again for it).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn joined_after(&self, n: u64) -> bool {
        self.late.load(Ordering::SeqCst) >= n
    }

    /// The run's value answers send `n` (set before the run ends).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn answers(&self, n: u64) {
        self.answers.store(n, Ordering::SeqCst);
    }

    /// A caller joins: its ticket to the run's value, for [`Header::may_take`].
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn joined(&self) -> u64 {
        let seen = self.sends.load(Ordering::SeqCst);
        self.late.fetch_max(seen, Ordering::SeqCst);
        seen
    }

    /// Whether a caller that [`joined`](Header::joined) with `seen` may take the value: it
    /// came from no remote read, or from a request sent after the caller joined.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn may_take(&self, seen: u64) -> bool {
        let n = self.answers.load(Ordering::SeqCst);
        n == 0 || seen < n
    }

    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Records the tags the run's entry will carry.
    pub(crate) fn set_tags(&self, tags: &[String]) {
        let _ = self.tags.set(tags.to_vec());
    }

    /// Whether the run's entry may carry `tag`: true while its tags are not known yet.
    pub(crate) fn may_carry(&self, tag: &str) -> bool {
        self.tags
            .get()
            .is_none_or(|tags| tags.iter().any(|t| t == tag))
    }
}

impl<K, V: Clone> Flight<K, V> {
    /// Parks the calling thread until the run ends.
    pub(crate) fn wait(&self) -> Outcome<V> {
        let mut state = lock!(self.state);
        loop {
            match &*state {
                State::Running(_) => {
                    state = match self.done.wait(state) {
                        Ok(state) => state,
                        Err(poisoned) => poisoned.into_inner(),
                    };
                }
                State::Done(v) => return v.clone(),
            }
        }
    }

    /// The task form of [`Flight::wait`].
    pub(crate) fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<Outcome<V>> {
        let mut state = lock!(self.state);
        match &mut *state {
            State::Running(wakers) => {
                if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
            State::Done(v) => Poll::Ready(v.clone()),
        }
    }
}
