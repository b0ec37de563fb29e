//! Single-flight: one run of the body per missing key, with every other caller of that key
//! parked (a thread on a condvar, a task by its waker) until the run ends.

use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};

thread_local! {
    /// The calling thread's id: `thread::current()` clones (and drops) an `Arc` each time.
    static ME: ThreadId = thread::current().id();
}

/// The calling thread's id; `None` while its thread-locals are being destroyed (a flight
/// started then has no owner, and no caller is taken for one).
fn me() -> Option<ThreadId> {
    ME.try_with(|id| *id).ok()
}

/// One run of a body for one key, shared by the caller running it and those waiting.
pub(crate) struct Flight<K, V> {
    /// The key's hash, for the shard's table of flights.
    pub(crate) hash: u64,
    /// The key, for the shard's table of flights.
    pub(crate) key: K,
    /// The thread that started the run: a body that calls itself on the same key must not
    /// wait for itself.
    owner: Option<ThreadId>,
    /// Set when the key was invalidated while the body ran: its result must not be stored.
    pub(crate) cancelled: AtomicBool,
    state: Mutex<State<V>>,
    done: Condvar,
}

enum State<V> {
    /// The body runs; tasks to wake when it ends.
    Running(Vec<Waker>),
    /// The body ended: `Some` is the value for the waiters, `None` tells them to try again
    /// (the body panicked, was cancelled, or returned something that is not shared).
    Done(Option<V>),
}

impl<K, V> Flight<K, V> {
    pub(crate) fn new(hash: u64, key: K) -> Self {
        Flight {
            hash,
            key,
            owner: me(),
            cancelled: AtomicBool::new(false),
            state: Mutex::new(State::Running(Vec::new())),
            done: Condvar::new(),
        }
    }

    /// Makes a finished flight, that no one else holds, a new one for `key`: a miss then
    /// needs no allocation.
    pub(crate) fn reuse(&mut self, hash: u64, key: K) {
        self.hash = hash;
        self.key = key;
        self.owner = me();
        *self.cancelled.get_mut() = false;
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        match state {
            State::Running(wakers) => wakers.clear(),
            State::Done(_) => *state = State::Running(Vec::new()),
        }
    }

    /// Whether the calling thread started this run (a same-key recursion).
    pub(crate) fn led_by_current_thread(&self) -> bool {
        self.owner.is_some() && self.owner == me()
    }

    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Ends the run and wakes every waiter.
    pub(crate) fn finish(&self, value: Option<V>) {
        let wakers = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            match mem::replace(&mut *state, State::Done(value)) {
                State::Running(w) => w,
                State::Done(_) => Vec::new(),
            }
        };
        self.done.notify_all();
        for w in wakers {
            w.wake();
        }
    }
}

impl<K, V: Clone> Flight<K, V> {
    /// Parks the calling thread until the run ends.
    pub(crate) fn wait(&self) -> Option<V> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match &*state {
                State::Running(_) => {
                    state = self
                        .done
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                State::Done(v) => return v.clone(),
            }
        }
    }

    /// The task form of [`Flight::wait`].
    pub(crate) fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<Option<V>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
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
