//! The erased representation's code, compiled here once (debug builds of memory caches, see
//! `rep.rs`): a function that makes each kind of call generated code makes, so that this
//! crate instantiates the lookups, the store, the flights and the leads at the erased key and
//! value types. A dev build shares generic code, so a user's crate links these instances
//! instead of compiling them again for each of its key and value types. Never called.

use crate::backend::Memory;
use crate::call::{Mode, of};
use crate::config::Config;
use crate::handle::CacheHandle;
use crate::key::key;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};

static HANDLE: CacheHandle = Config::new().handle("memocache::__instances");

/// Makes every kind of call on one memory cache of `u64 -> u64`: the instances the erased
/// representation's calls share. Not a public API; never called by memocache.
pub fn instances() {
    fn body(x: u64) -> u64 {
        x
    }
    let x = 0_u64;
    let h = &HANDLE;
    of::<u64>(h).lookup(key(&x).part()).run((x,), body);
    of::<u64>(h).refresh(key(&x).part()).run((x,), body);
    of::<u64>(h).invalidate(key(&x).part());
    of::<u64>(h)
        .call(Mode::Lookup, Memory)
        .lookup(key(&x).part())
        .run((x,), body);
    let calls = async {
        let looked = of::<u64>(h).lookup_async(key(&x).part()).await;
        looked.run_async(async { x }).await;
        let looked = of::<u64>(h).refresh_async(key(&x).part()).await;
        looked.run_async(async { x }).await;
        of::<u64>(h).invalidate_async(Memory, key(&x).part()).await;
    };
    let _ = pin!(calls).poll(&mut Context::from_waker(Waker::noop()));
}
