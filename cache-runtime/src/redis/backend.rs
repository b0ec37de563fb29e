//! The `redis` backend: the marker that `#[cached(redis)]` passes, the bounds its keys and
//! values must meet (in the user's words when they do not), and the tags that Redis drops
//! for every process.

use super::bus;
use super::tier::{Tier, pending_tags};
use crate::backend::{Backend, Tiers, Wipe};
use crate::config::Config;
use crate::remote::{BoxFuture, Remote};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A key a `redis` cache can keep: it travels to Redis and back.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the key of a `redis` cache",
    label = "the key of this `#[cached(redis)]` function",
    note = "with `redis`, the key goes to Redis: it must be `serde::Serialize` (derive it with serde); `#[derive(serde::Serialize, serde::Deserialize)]` on `{Self}`, or write `key = ...` from parts that are"
)]
pub trait RedisKey: Serialize {}

impl<T: Serialize + ?Sized> RedisKey for T {}

/// A value a `redis` cache can keep: it is written to Redis and read back, in any process.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of a `redis` cache",
    label = "the value of this `#[cached(redis)]` function",
    note = "with `redis`, the value is stored in Redis: it must be `serde::Serialize + serde::de::DeserializeOwned`; `#[derive(serde::Serialize, serde::Deserialize)]` on `{Self}`"
)]
pub trait RedisValue: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> RedisValue for T {}

/// Entries in Redis, behind the in-memory store (see `memocache::redis`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Redis;

impl<K, V> Backend<K, V> for Redis
where
    K: RedisKey + Clone + Send + Sync + 'static,
    V: RedisValue + Send + Sync + 'static,
{
    fn remote(self, name: &'static str, config: &Config) -> Option<Box<dyn Remote<K, V>>> {
        Some(Box::new(Tier::<K, V>::new(name, config)))
    }
}

impl Tiers for Redis {
    const REMOTE: bool = true;
    // The codec needs the value's type: typed in every build.
    type Rep = crate::rep::Typed;
}

impl Wipe for Redis {
    fn wipe(self, name: &'static str) {
        let client = super::global();
        let keys = client.keys().cache(name);
        if client.delete_all_blocking(keys.prefix()).is_err() {
            // No cache of this process to keep it for: replayed with the tags', before any
            // cache reads from Redis.
            pending_tags().push_scope(keys.prefix());
        } else {
            let bus = bus::get();
            bus.publish_blocking(&bus.event(b'a', &[keys.prefix()]));
        }
    }

    fn wipe_async(self, name: &'static str) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let client = super::global();
            let keys = client.keys().cache(name);
            if client.delete_all(keys.prefix()).await.is_err() {
                pending_tags().push_scope(keys.prefix());
            } else {
                let bus = bus::get();
                bus.publish(&bus.event(b'a', &[keys.prefix()])).await;
            }
        })
    }
}

/// Drops the entries labelled `tag` in Redis, for every process (`memocache::invalidate_tag`
/// calls it), when this process uses Redis at all: it was initialised, it has a Redis cache,
/// or `MEMOCACHE_REDIS_URL` is set. What Redis cannot take is replayed before any cache
/// reads from it again.
pub(crate) fn invalidate_tag(tag: &str) {
    let Some(client) = super::in_use() else {
        return;
    };
    if client.delete_tag_blocking(tag).is_err() {
        pending_tags().push_tag(tag);
    } else {
        let bus = bus::get();
        bus.publish_blocking(&bus.event(b't', &[tag.as_bytes()]));
    }
}
