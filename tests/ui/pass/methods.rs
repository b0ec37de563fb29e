// Methods with a receiver and associated functions that name `Self`: the helpers are
// associated functions, and take `&self` only when the key reads `self`.
use memocache::cached;

#[derive(Clone)]
struct Shop {
    id: u32,
    markup: u64,
}

impl Shop {
    #[cached]
    fn open(id: u32) -> Self {
        Shop { id, markup: 2 }
    }

    #[cached]
    fn price(&self, cost: u64) -> u64 {
        cost * self.markup
    }

    #[cached(key = (self.id, item.to_owned()))]
    fn stock(&self, item: &str) -> u32 {
        self.id + item.len() as u32
    }

    #[cached(name = "shop_tax")]
    fn tax(&self, cost: u64) -> u64 {
        cost / 10
    }
}

fn main() {
    let shop = Shop::open(1);
    assert_eq!(shop.price(10), 20);
    assert_eq!(shop.price(10), 20);
    assert_eq!(Shop::price_cache().stats().hits, 1);
    assert!(Shop::price_cache().name().ends_with("Shop::price"));
    assert!(Shop::invalidate_price(10));
    assert_eq!(shop.refresh_price(10), 20);
    Shop::invalidate_all_price();
    assert_eq!(shop.stock("ab"), 3);
    assert!(shop.invalidate_stock("ab"));
    assert_eq!(shop.tax(100), 10);
    assert_eq!(Shop::tax_cache().name(), "shop_tax");
    assert!(Shop::invalidate_open(1));
}
