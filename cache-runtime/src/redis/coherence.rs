//! A Redis cache's side of the bus: announcing the changes this process makes in Redis, and
//! acting on the other processes' (the [`Near`] side: drop the near copies they concern).

use super::bus::Near;
use super::tier::Tier;
use serde::Serialize;
use serde::de::DeserializeOwned;

impl<K, V> Tier<K, V>
where
    K: Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Announces a change this process made in Redis; a failure is counted (the other
    /// processes see a gap in this process's events at the next one, and drop their copies).
    pub(super) fn announce_blocking(&self, event: &[u8]) {
        if !self.bus.publish_blocking(event) {
            self.failed();
        }
    }

    /// The `async` form of [`Tier::announce_blocking`].
    pub(super) async fn announce(&self, event: &[u8]) {
        if !self.bus.publish(event).await {
            self.failed();
        }
    }
}

impl<K, V> Near for Tier<K, V>
where
    K: Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn scope(&self) -> &[u8] {
        self.keys.prefix()
    }

    fn on_key(&self, rkey: &[u8]) {
        let key = self.near.as_ref().and_then(|n| n.take(rkey));
        if let (Some(key), Some(local)) = (key, self.local.get()) {
            local.drop_key(&key);
        }
    }

    fn on_all(&self) {
        let Some(n) = &self.near else { return };
        n.clear();
        if let Some(local) = self.local.get() {
            local.drop_all();
        }
    }

    fn on_tag(&self, tag: &str) {
        if let (Some(_), Some(local)) = (&self.near, self.local.get()) {
            local.drop_tag(tag);
        }
    }

    fn replay(&self) {
        self.replayed_blocking();
    }
}
