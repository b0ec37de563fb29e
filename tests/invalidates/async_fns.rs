//! `#[invalidates]` on `async fn`s: the helpers of `async` cached functions are awaited,
//! those of sync ones run as they are; on tokio, smol and `futures::executor::block_on`; the
//! future is `Send` when the body's is.

use memocache::{cached, invalidates};
use std::sync::atomic::{AtomicU64, Ordering};

static PRICE_VERSION: AtomicU64 = AtomicU64::new(0);

#[cached]
async fn price(item: u32) -> u64 {
    PRICE_VERSION.load(Ordering::SeqCst) * 1000 + u64::from(item)
}

#[cached]
fn label(item: u32) -> String {
    format!("item {item} at v{}", PRICE_VERSION.load(Ordering::SeqCst))
}

#[cached]
async fn catalogue() -> u64 {
    PRICE_VERSION.load(Ordering::SeqCst)
}

#[cached(tags = [format!("shelf:{item}")])]
fn shelf(item: u32) -> u32 {
    item
}

/// An `async` body that awaits, with `async` and sync targets mixed.
#[invalidates(price(item), label(item), all(catalogue), tag(format!("shelf:{item}")))]
async fn reprice(item: u32, cents: u64) -> Result<u64, String> {
    if cents == 0 {
        return Err("free is not a price".into());
    }
    tokio::task::yield_now().await;
    Ok(PRICE_VERSION.fetch_add(1, Ordering::SeqCst) + 1)
}

#[test]
fn async_and_sync_targets_from_an_async_fn() {
    futures::executor::block_on(async {
        let before = price(1).await;
        label(1);
        catalogue().await;
        shelf(1);
        assert!(reprice(1, 0).await.is_err());
        assert_eq!(price_cache().stats().invalidations, 0, "an Err runs none");
        reprice(1, 250).await.unwrap();
        assert_ne!(price(1).await, before, "the async target was awaited");
        let invalidated = |c: &memocache::CacheHandle| c.stats().invalidations;
        assert_eq!(invalidated(price_cache()), 1);
        assert_eq!(invalidated(label_cache()), 1, "the sync target ran");
        assert_eq!(invalidated(catalogue_cache()), 1);
        assert_eq!(invalidated(shelf_cache()), 1);
    });
}

#[cached]
async fn invoice(id: u64) -> Option<u64> {
    Some(id)
}

#[cached]
async fn invoices_of(customer: String) -> usize {
    customer.len()
}

static NEXT_INVOICE: AtomicU64 = AtomicU64::new(1);

/// `result`, a consumed parameter and `before`, in an `async fn`.
#[invalidates(invoice(result.0), invoices_of(customer), before)]
async fn bill(customer: String) -> Result<(u64, String), String> {
    let id = NEXT_INVOICE.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    Ok((id, customer))
}

#[test]
fn result_and_before_in_an_async_fn_on_smol() {
    smol::block_on(async {
        let next = NEXT_INVOICE.load(Ordering::SeqCst);
        invoice(next).await;
        invoices_of("ada".into()).await;
        let (id, customer) = bill("ada".into()).await.unwrap();
        assert_eq!((id, customer.as_str()), (next, "ada"));
        assert_eq!(invoice_cache().stats().invalidations, 1);
        assert_eq!(
            invoices_of_cache().stats().invalidations,
            1,
            "before the body; nothing was left for after"
        );
        assert!(invoices_of_cache().is_empty());
    });
}

struct Shop {
    id: u64,
}

impl Shop {
    #[cached]
    async fn stock(&self, item: u32) -> u32 {
        item
    }

    #[cached(key = (self.id, item))]
    async fn shelf_of(&self, item: u32) -> u64 {
        self.id + u64::from(item)
    }

    #[invalidates(Self::stock(item), self.shelf_of(item))]
    async fn restock(&self, item: u32) {
        tokio::task::yield_now().await;
    }
}

#[test]
fn async_methods_on_a_tokio_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let shop = std::sync::Arc::new(Shop { id: 9 });
        shop.stock(1).await;
        shop.shelf_of(1).await;
        // `tokio::spawn` takes only `Send` futures.
        let task = {
            let shop = shop.clone();
            tokio::spawn(async move { shop.restock(1).await })
        };
        task.await.unwrap();
        assert!(Shop::stock_cache().is_empty());
        assert!(Shop::shelf_of_cache().is_empty());
        tokio::spawn(reprice(2, 1)).await.unwrap().unwrap();
    });
}
