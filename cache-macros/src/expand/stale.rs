//! The closure that refreshes a `stale` entry away from the caller that found it.

use super::Gen;
use crate::model::Param;
use crate::signature::sibling;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

impl Gen<'_, '_> {
    /// For `stale`: the closure that refreshes an entry in the background (a thread, or a
    /// task for an `async fn`), given the entry's owned key, by calling `refresh_f` with
    /// the arguments rebuilt from it. That takes the default key (all of the arguments),
    /// no receiver (it cannot go to another thread), and a safe function (an `unsafe`
    /// one's caller vouches for its own call only). Otherwise the caller that finds the
    /// entry stale refreshes it.
    pub(super) fn background_refresh(&self) -> Option<TokenStream> {
        let func = self.func;
        if !self.args.stale.present()
            || self.args.key.present()
            || func.receiver.is_some()
            || func.item.sig.unsafety.is_some()
        {
            return None;
        }
        let key = Ident::new("__memocache_k", Span::mixed_site());
        // `&K` to the argument: a reference parameter borrows from the owned key
        // (`&String` as `&str`), any other is a clone.
        let rebuild = |field: TokenStream, p: &Param| {
            if p.is_ref {
                quote!(::core::borrow::Borrow::borrow(#field))
            } else {
                quote!(::core::clone::Clone::clone(#field))
            }
        };
        let owned = if func.is_async() {
            quote!(&#key)
        } else {
            quote!(#key)
        };
        let args: Vec<TokenStream> = match func.params.as_slice() {
            [] => Vec::new(),
            [one] => vec![rebuild(owned, one)],
            many => many
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let i = syn::Index::from(i);
                    rebuild(quote!(&#key.#i), p)
                })
                .collect(),
        };
        let refresh = sibling(&self.refresh);
        let path = if func.in_impl {
            quote!(Self::#refresh)
        } else {
            quote!(#refresh)
        };
        Some(if func.is_async() {
            // `refresh_f`, not this function: the refresh task must be `Send`, which rustc
            // cannot tell of this function's own future while it infers it.
            quote! {
                |#key| async move {
                    let _ = #path(#(#args),*).await;
                }
            }
        } else {
            quote! {
                |#key: &_| {
                    let _ = #path(#(#args),*);
                }
            }
        })
    }
}
