//! The `#[cached]` attribute of [memocache](https://docs.rs/memocache). Use it through the
//! `memocache` crate, which re-exports it and holds the runtime the generated code calls.
//!
//! The pipeline, one file per phase: `args` parses the attribute, `model` reads the
//! function, `validate` reports every mistake at once, `expand` writes the code (and
//! cannot fail, helped by `attrs` and `signature`), and `fallback` is what is emitted instead when there are errors.
//!
//! # Methods
//!
//! An attribute sees only the function it is on, not the `impl` block around it, so the
//! macro decides from the function alone: it is in an `impl` block (or a trait) if it has a
//! receiver (`self`, `&self`, ...) or names the type `Self` in its signature, its body or
//! the attribute's expressions (`key`, `unless`, `tags`). The helpers are then associated
//! functions (`Self::invalidate_f(..)`, `Type::f_cache()`), and the cache is per `Self`
//! type, found at run time (see `expand.rs`): a generic `impl` or a trait's default method
//! has one per type, named `<type>::f`.
//!
//! `#[cached_impl]` on the `impl` block (`impl_block.rs`) tells the functions inside where
//! they are. With it, an associated function with neither `self` nor `Self` is known to be
//! in an `impl`; without it, it looks like a free function, and rustc reports ``cannot
//! find function `__memocache_f` in this scope`` on the attribute (the fix: the impl
//! attribute, or `Self` somewhere in the function).
//!
//! # Trait impls
//!
//! The helpers of a method in a trait `impl` cannot be members of the trait. With
//! `#[cached_impl]` on the trait `impl`, the method stays there and its worker and helpers
//! go to an inherent `impl` of the type. Without it the macro cannot tell a trait `impl`
//! from an inherent one, and rustc reports each helper as "not a member of trait" (the
//! trybuild case `trait_impl` records it). A macro that could say it in one error would
//! have to know the `impl` header, which only the impl attribute sees.

use proc_macro::TokenStream;

mod args;
mod attrs;
mod ctxt;
mod duration;
mod expand;
mod fallback;
mod impl_block;
mod invalidates;
mod keys;
mod model;
mod names;
mod signature;
mod spelling;
mod validate;

// The documentation is on the re-export, `memocache::cached`, where users meet the
// attribute and where its examples can call the runtime; rustdoc appends this item's own
// docs to it, so they say nothing more.
/// (The attribute of the `cache-macros` crate.)
#[proc_macro_attribute]
pub fn cached(attr: TokenStream, item: TokenStream) -> TokenStream {
    cached_attr(attr.into(), item.into()).into()
}

/// Drops the listed cache entries once the function's body has returned: put it on the
/// functions that change the data.
///
/// The targets (`f(args)`, `self.f(args)`, `all(f)`, `tag(expr)`), the flags (`before`,
/// `always`) and the behaviour are documented where users meet the attribute: on its
/// re-export, `memocache::invalidates`.
#[proc_macro_attribute]
pub fn invalidates(attr: TokenStream, item: TokenStream) -> TokenStream {
    invalidates::invalidates_impl(attr.into(), item.into()).into()
}

// Documented on its re-export, `memocache::cached_impl`, as `cached` is.
/// (The attribute of the `cache-macros` crate.)
#[proc_macro_attribute]
pub fn cached_impl(attr: TokenStream, item: TokenStream) -> TokenStream {
    impl_block::expand(attr.into(), item.into()).into()
}

fn cached_attr(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    match model::parse_item(
        item.clone(),
        "cached",
        "it cannot go on a declaration without one",
    ) {
        Ok(item_fn) => expand_cached(attr, &item_fn, None).here,
        Err(e) => {
            let mut cx = ctxt::Errors::default();
            let _ = args::Args::parse(attr, &mut cx);
            let error = match cx.into_error() {
                Some(mut all) => {
                    all.combine(e);
                    all
                }
                None => e,
            };
            fallback::not_a_function(error, item)
        }
    }
}

/// One `#[cached]` function, where `known` says it is (from `#[cached_impl]`) or the
/// function alone tells.
fn expand_cached(
    attr: proc_macro2::TokenStream,
    item_fn: &syn::ItemFn,
    known: Option<model::Place>,
) -> expand::Expansion {
    let mut cx = ctxt::Errors::default();
    let id = id_of(&attr, &quote::ToTokens::to_token_stream(item_fn));
    let args = args::Args::parse(attr, &mut cx);
    let func = model::Function::new(item_fn, &args, known, id);
    validate::check(&func, &args, &mut cx);
    match cx.into_error() {
        None => expand::expand(&func, &args),
        Some(error) => fallback::with_stubs(error, &func),
    }
}

/// A hash of a `#[cached]` use's tokens (FNV-1a, so that it is the same on every build):
/// with the module path and the function's name, what tells its per-`Self` caches apart from
/// those of any other function.
fn id_of(attr: &proc_macro2::TokenStream, item: &proc_macro2::TokenStream) -> u64 {
    let text = format!("{attr} {item}");
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::cached_attr as cached_impl;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The names of the items of an expansion, which must parse as Rust.
    fn item_names(tokens: TokenStream) -> Vec<String> {
        let file: syn::File = syn::parse2(tokens).expect("the expansion parses");
        file.items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
                syn::Item::Macro(m) => Some(format!("{}!", m.mac.path.segments.last()?.ident)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_function_becomes_the_function_its_worker_and_four_helpers() {
        let out = cached_impl(
            quote!(
                ttl = "5m",
                key = symbol.to_string(),
                tags = [format!("sym:{symbol}")]
            ),
            quote! {
                /// Docs.
                pub fn stock_price(symbol: &str, client: &Http) -> Result<f64, FetchError> { todo!() }
            },
        );
        assert_eq!(
            item_names(out.clone()),
            [
                "stock_price",
                "__memocache_stock_price",
                "invalidate_stock_price",
                "invalidate_all_stock_price",
                "refresh_stock_price",
                "stock_price_cache",
            ]
        );
        let text = out.to_string();
        assert!(text.contains("Duration :: from_secs (300)"));
        assert!(text.contains("__private :: ok :: < Result"));
        assert!(text.contains("fn invalidate_stock_price (symbol : & str)"));
    }

    #[test]
    fn on_error_the_function_stays_and_the_helpers_are_stubs() {
        let out = cached_impl(
            quote!(ttl = "5x"),
            quote!(
                fn f(a: u8) -> u8 {
                    a
                }
            ),
        );
        assert_eq!(
            item_names(out),
            [
                "compile_error!",
                "f",
                "invalidate_f",
                "invalidate_all_f",
                "refresh_f",
                "f_cache"
            ]
        );
    }

    #[test]
    fn every_error_is_reported() {
        let out = cached_impl(
            quote!(ttl = "0s", capacity = 0, nope, ttl = "1m"),
            quote!(
                fn f(x: &mut u8) {}
            ),
        );
        let errors = item_names(out)
            .iter()
            .filter(|name| *name == "compile_error!")
            .count();
        assert_eq!(errors, 6);
    }
}
