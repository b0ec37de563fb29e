//! Who refreshes an entry found stale (`stale = ..`): the caller that found it, a background
//! thread, or a spawned tokio task. Every other caller is served the stale value meanwhile;
//! the refresh holds the stale entry's flight until it ends, so that one runs at a time.

use super::claim::RunGuard;
use std::future::Future;
#[cfg(feature = "tokio")]
use std::pin::Pin;
use std::sync::Arc;
#[cfg(feature = "tokio")]
use std::task::{Context, Poll};

/// Where a refresh of a stale entry went.
pub(super) enum Refresh<K: 'static, V: 'static> {
    /// Elsewhere: the caller is served the stale value.
    Started,
    /// Nowhere: the caller runs it, with this run.
    Here(K, RunGuard<K, V>),
}

/// Who refreshes an entry found stale.
pub(super) trait StaleRefresh<K: 'static, V: 'static> {
    /// Starts the refresh of `key` elsewhere, or hands the run back for the caller to run.
    fn start(self, key: K, run: RunGuard<K, V>) -> Refresh<K, V>;
}

/// The caller that found the entry stale refreshes it.
pub(super) struct CallerRefreshes;

impl<K: 'static, V: 'static> StaleRefresh<K, V> for CallerRefreshes {
    fn start(self, key: K, run: RunGuard<K, V>) -> Refresh<K, V> {
        Refresh::Here(key, run)
    }
}

/// A background thread refreshes the entry, by calling `refresh_f` with the key.
pub(super) struct OnThread<F>(pub(super) F);

impl<K, V, F> StaleRefresh<K, V> for OnThread<F>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    F: FnOnce(&K) + Send + 'static,
{
    fn start(self, key: K, run: RunGuard<K, V>) -> Refresh<K, V> {
        // The stale entry's flight stays registered until the refresh ends, so that one
        // refresh runs at a time; dropping the guard, even in a panic, ends it.
        let guard = run;
        let offset = crate::clock::offset();
        let refresh = self.0;
        let shared = Arc::new(std::sync::Mutex::new(Some((key, guard, refresh))));
        let job = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("memocache-refresh".into())
            .spawn(move || {
                let taken = job.lock().ok().and_then(|mut j| j.take());
                if let Some((key, guard, refresh)) = taken {
                    crate::clock::set_offset(offset);
                    refresh(&key);
                    drop(guard);
                }
            });
        match spawned {
            Ok(_) => Refresh::Started,
            // No thread to be had: the caller refreshes, as without a refresher.
            Err(_) => match shared.lock().ok().and_then(|mut j| j.take()) {
                Some((key, guard, _)) => Refresh::Here(key, guard),
                None => Refresh::Started,
            },
        }
    }
}

/// A spawned task refreshes the entry (when there is a tokio runtime to spawn on), by
/// awaiting `refresh_f` with the key.
pub(super) struct OnTask<F>(pub(super) F);

impl<K, V, F, Fut> StaleRefresh<K, V> for OnTask<F>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    F: FnOnce(K) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    #[cfg(feature = "tokio")]
    fn start(self, key: K, run: RunGuard<K, V>) -> Refresh<K, V> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Refresh::Here(key, run);
        };
        let guard = run;
        let offset = crate::clock::offset();
        let refresh = (self.0)(key);
        runtime.spawn(async move {
            // The clock offset is per thread: carry the caller's to whichever thread polls.
            let refresh = std::pin::pin!(refresh);
            WithOffset {
                offset,
                inner: refresh,
            }
            .await;
            drop(guard);
        });
        Refresh::Started
    }

    #[cfg(not(feature = "tokio"))]
    fn start(self, key: K, run: RunGuard<K, V>) -> Refresh<K, V> {
        Refresh::Here(key, run)
    }
}

/// Polls a future with the cache clock offset of the thread that spawned it.
#[cfg(feature = "tokio")]
struct WithOffset<F> {
    offset: u64,
    inner: F,
}

#[cfg(feature = "tokio")]
impl<F: Future + Unpin> Future for WithOffset<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let saved = crate::clock::offset();
        crate::clock::set_offset(self.offset);
        let out = Pin::new(&mut self.inner).poll(cx);
        crate::clock::set_offset(saved);
        out
    }
}
