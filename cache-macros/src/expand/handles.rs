//! Where the generated items find the cache: `f_cache()` and its `static` for a free
//! function; in an `impl` block or a trait, a `static SelfCaches` in each of the function,
//! `refresh_f` and `f_cache`, and `where Self: Sized` on the helpers (see `expand.rs`).

use super::Gen;
use crate::attrs::Generated;
use crate::model::Place;
use crate::signature::{sibling, where_clause};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{Ident, WherePredicate};

impl Gen<'_, '_> {
    /// The handle the cached function and `refresh_f` use: `f_cache()` for a free function;
    /// in an `impl` block, a `static SelfCaches` of their own and `.handle::<Self>()` (see
    /// the module's docs).
    pub(super) fn own_handle(&self) -> (TokenStream, TokenStream) {
        if !self.func.in_impl {
            return (TokenStream::new(), self.cache_call());
        }
        let site = Ident::new("__MEMOCACHE_SELF", Span::mixed_site());
        let new = self.self_caches();
        let config = self.config();
        (
            quote!(static #site: ::memocache::__private::SelfCaches = #new;),
            quote!(#site.handle::<Self>(#config)),
        )
    }

    /// `SelfCaches::new(id, name, fn_name)`: the same in every static of this function.
    fn self_caches(&self) -> TokenStream {
        let fn_name = self.func.item.sig.ident.unraw().to_string();
        let id = format!("::{fn_name}#{:016x}", self.func.id);
        let name = match &self.args.name.value {
            Some(lit) => quote!(::core::option::Option::Some(#lit)),
            None => quote!(::core::option::Option::None),
        };
        quote! {
            ::memocache::__private::SelfCaches::new(
                ::core::concat!(::core::module_path!(), #id),
                #name,
                #fn_name,
            )
        }
    }

    /// `where Self: Sized` on the helpers of a function in an `impl` block or a trait, with
    /// the function's own predicates if `own` (see the module's docs).
    pub(super) fn helper_where(
        &self,
        own: bool,
        sized: bool,
        kept: &[&WherePredicate],
    ) -> TokenStream {
        let mut predicates: Vec<TokenStream> = kept.iter().map(ToTokens::to_token_stream).collect();
        if own && let Some(w) = &self.func.item.sig.generics.where_clause {
            predicates.extend(w.predicates.iter().map(ToTokens::to_token_stream));
        }
        // Only where the function may be in a trait: `impl dyn Trait` cannot meet the bound.
        if sized && self.func.place == Place::Impl {
            predicates.push(quote!(Self: ::core::marker::Sized));
        }
        where_clause(&predicates)
    }

    pub(super) fn cache(&self) -> TokenStream {
        let head = self.helper_head(
            Generated::Helper,
            "The cache of {}: its name, size and statistics.",
            false,
        );
        let name = &self.cache;
        let where_clause = self.helper_where(false, true, &[]);
        let body = if self.func.in_impl {
            let (site, handle) = self.own_handle();
            quote!(#site #handle)
        } else {
            let handle = Ident::new("__MEMOCACHE_HANDLE", Span::mixed_site());
            let display_name = match &self.args.name.value {
                Some(lit) => lit.to_token_stream(),
                None => {
                    let fn_name = self.func.item.sig.ident.unraw().to_string();
                    quote!(::core::concat!(::core::module_path!(), "::", #fn_name))
                }
            };
            let new = self.new_handle(&display_name);
            quote! {
                static #handle: ::memocache::CacheHandle = #new;
                &#handle
            }
        };
        quote! {
            #head
            fn #name() -> &'static ::memocache::CacheHandle #where_clause {
                #body
            }
        }
    }

    pub(super) fn cache_call(&self) -> TokenStream {
        let cache = sibling(&self.cache);
        if self.func.in_impl {
            quote!(Self::#cache())
        } else {
            quote!(#cache())
        }
    }
}
