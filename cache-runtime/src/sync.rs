//! The synchronisation primitives the store, the flights and the per-thread copies use, in
//! one place, so that a model checker can stand in for them.
//!
//! Built normally, these are `parking_lot`'s mutex (the shards: no poisoning to check on every
//! lock and unlock), std's mutex and condvar (a flight's state, which a waiting thread parks
//! on), std's atomics and thread ids. Built with `RUSTFLAGS="--cfg shuttle"`, they are
//! [shuttle](https://docs.rs/shuttle)'s, whose scheduler then explores the interleavings of the
//! protocols built on them (see `model_tests.rs`), as quick_cache does with its `shim.rs`.

#[cfg(not(shuttle))]
mod imp {
    pub(crate) use parking_lot::{Mutex, MutexGuard};
    pub(crate) use std::sync::atomic;
    pub(crate) use std::sync::{Condvar, Mutex as BlockingMutex};
    pub(crate) use std::thread::ThreadId;

    thread_local! {
        /// The calling thread's id: `thread::current()` clones (and drops) an `Arc` each time.
        static ME: ThreadId = std::thread::current().id();
    }

    /// The calling thread's id; `None` while its thread-locals are being destroyed.
    #[inline]
    pub(crate) fn thread_id() -> Option<ThreadId> {
        ME.try_with(|id| *id).ok()
    }
}

#[cfg(shuttle)]
mod imp {
    pub(crate) use shuttle::sync::atomic;
    pub(crate) use shuttle::sync::{Condvar, Mutex as BlockingMutex};
    pub(crate) use shuttle::thread::ThreadId;
    use std::sync::PoisonError;

    /// `parking_lot`'s mutex API over shuttle's mutex.
    #[derive(Default)]
    pub(crate) struct Mutex<T>(shuttle::sync::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = shuttle::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(shuttle::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// The calling (shuttle) thread's id.
    pub(crate) fn thread_id() -> Option<ThreadId> {
        Some(shuttle::thread::current().id())
    }
}

pub(crate) use imp::*;
