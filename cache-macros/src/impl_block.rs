//! `#[memocache::cached_impl]` on an `impl` block: the one place where the `impl` header is
//! known, so it tells the `#[cached]` functions inside where they are.
//!
//! Input:
//! ```text
//! #[memocache::cached_impl]
//! impl Shape for Circle {
//!     #[cached]
//!     fn area(&self) -> u64 { BODY }
//! }
//! ```
//! Output: the trait `impl` with the cached `area` (its body calls the worker), then
//! ```text
//! impl Circle {
//!     fn __memocache_area(&self) -> u64 { BODY }
//!     fn invalidate_area() -> bool { .. }   // and invalidate_all_area, refresh_area, area_cache
//! }
//! ```
//! In an inherent `impl` the `#[cached]` functions expand in place as usual, except that an
//! associated function with neither `self` nor `Self` is known to be one (on its own, the
//! attribute takes it for a free function).
//!
//! The functions it expands are those with an attribute spelled `#[cached]`,
//! `#[memocache::cached]` or `#[::memocache::cached]`; it removes the attribute, so each
//! expands once. The helpers of a trait `impl`'s functions take the visibility given to this
//! attribute (`#[cached_impl(pub)]`), private by default.

use crate::model::Place;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, ImplItem, ItemFn, ItemImpl, Meta, Visibility};

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let vis: Visibility = match syn::parse2(attr) {
        Ok(vis) => vis,
        Err(e) => {
            let e = syn::Error::new(
                e.span(),
                "`cached_impl` takes nothing, or the visibility of the helpers of a trait \
                 impl's cached functions: `#[cached_impl(pub)]`, `#[cached_impl(pub(crate))]`",
            )
            .to_compile_error();
            return quote!(#e #item);
        }
    };
    let mut block: ItemImpl = match syn::parse2(item.clone()) {
        Ok(block) => block,
        Err(_) => {
            let e = syn::Error::new(
                proc_macro2::Span::call_site(),
                "`cached_impl` goes on an `impl` block, inherent or of a trait; a trait's \
                 default methods take `#[cached]` as they are",
            )
            .to_compile_error();
            return quote!(#e #item);
        }
    };
    let place = if block.trait_.is_some() {
        Place::TraitImpl
    } else {
        Place::Inherent
    };
    let mut helpers = Vec::new();
    // Whether a `#[cached]` was written through an import (`use memocache::cached;`), which
    // removing the attributes would leave unused.
    let mut imported = None;
    let items = std::mem::take(&mut block.items);
    for item in items {
        let ImplItem::Fn(mut f) = item else {
            block.items.push(item);
            continue;
        };
        let Some(at) = f.attrs.iter().position(is_cached) else {
            block.items.push(ImplItem::Fn(f));
            continue;
        };
        let cached = f.attrs.remove(at);
        if let Some(ident) = cached.path().get_ident() {
            imported = Some(ident.clone());
        }
        let args = match cached.meta {
            Meta::Path(_) => TokenStream::new(),
            Meta::List(list) => list.tokens,
            Meta::NameValue(nv) => {
                let e = syn::Error::new_spanned(nv, "write `#[cached(option, ...)]`")
                    .to_compile_error();
                block.items.push(ImplItem::Verbatim(quote!(#e)));
                block.items.push(ImplItem::Fn(f));
                continue;
            }
        };
        let item_fn = ItemFn {
            attrs: f.attrs,
            // In a trait `impl` the function has no visibility of its own (the trait's):
            // what is written on it is what its helpers get.
            vis: if place == Place::TraitImpl {
                vis.clone()
            } else {
                f.vis
            },
            sig: f.sig,
            block: Box::new(f.block),
        };
        let out = crate::expand_cached(args, &item_fn, Some(place));
        block.items.push(ImplItem::Verbatim(out.here));
        helpers.push(out.helpers);
    }
    let inherent = if place == Place::TraitImpl && helpers.iter().any(|h| !h.is_empty()) {
        let cfgs = block.attrs.iter().filter(|a| a.path().is_ident("cfg"));
        let (impl_generics, _, where_clause) = block.generics.split_for_impl();
        let self_ty = &block.self_ty;
        quote! {
            #(#cfgs)*
            impl #impl_generics #self_ty #where_clause {
                #(#helpers)*
            }
        }
    } else {
        TokenStream::new()
    };
    // The import is used, as it would be without this attribute.
    let uses = imported.map(|ident| {
        quote! {
            const _: () = {
                #[allow(unused_imports)]
                use #ident as _;
            };
        }
    });
    let block = block.to_token_stream();
    quote!(#block #inherent #uses)
}

/// `#[cached]`, `#[cached(..)]`, `#[memocache::cached(..)]`, `#[::memocache::cached(..)]`.
fn is_cached(attr: &Attribute) -> bool {
    let path = attr.path();
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [one] => one == "cached" && path.leading_colon.is_none(),
        [krate, name] => krate == "memocache" && name == "cached",
        _ => false,
    }
}
