//! What to emit when `#[cached]` is used wrongly: the errors, the user's function as it
//! was, and stand-ins for the helpers with the same names and signatures.
//!
//! Without the stand-ins, one mistake in the attribute would also turn every call of
//! `invalidate_f`, `refresh_f` or `f_cache` elsewhere into an error: the user would read
//! ten messages to find the one that matters.

use crate::attrs::{Generated, allows};
use crate::expand::Expansion;
use crate::model::{Function, Place};
use crate::signature::{HelperNames, where_clause};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::visit::Visit;
use syn::{Attribute, FnArg, Ident, TypeImplTrait};

/// The item was not a function (or had no body): the errors and the item, untouched.
pub fn not_a_function(error: syn::Error, item: TokenStream) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#error #item)
}

/// The errors, the function untouched, and helpers that do nothing (in the inherent `impl`
/// for a function of a trait `impl`).
pub fn with_stubs(error: syn::Error, func: &Function) -> Expansion {
    let error = error.to_compile_error();
    let item = func.item;
    let stubs = stubs(func);
    if func.place == Place::TraitImpl {
        // The function without its visibility, which is its helpers'.
        let (attrs, sig, block) = (&item.attrs, &item.sig, &item.block);
        Expansion {
            here: quote!(#error #(#attrs)* #sig #block),
            helpers: stubs,
        }
    } else {
        Expansion {
            here: quote!(#error #item #stubs),
            helpers: TokenStream::new(),
        }
    }
}

fn stubs(func: &Function) -> TokenStream {
    let names = HelperNames::of(&func.item.sig.ident);
    let sig = &func.item.sig;
    let vis = &func.item.vis;
    let cfgs = func.item.attrs.iter().filter(|a| is_cfg(a));
    let cfgs = quote!(#(#cfgs)*);
    let asyncness = &sig.asyncness;
    let generics = &sig.generics;
    let own_where = &sig.generics.where_clause;
    // As the real helpers (see `expand.rs`): a trait with a cached default method stays
    // dyn-compatible.
    let mut predicates: Vec<TokenStream> = (own_where.iter())
        .flat_map(|w| w.predicates.iter().map(ToTokens::to_token_stream))
        .collect();
    let refresh_where = where_clause(&predicates);
    if func.place == Place::Impl {
        predicates.push(quote!(Self: ::core::marker::Sized));
    }
    let helper_where = where_clause(&predicates);
    let sized_only = if func.place == Place::Impl {
        quote!(where Self: ::core::marker::Sized)
    } else {
        TokenStream::new()
    };
    let allows = allows(Generated::Helper);
    let quiet = quote! {
        #[doc(hidden)]
        #allows
        #[allow(unused_variables, unused_mut, clippy::empty_loop)]
    };

    let (invalidate, invalidate_all, refresh, cache) = (
        &names.invalidate,
        &names.invalidate_all,
        &names.refresh,
        &names.cache,
    );
    let receiver = func
        .receiver
        .filter(|_| func.key_uses_self())
        .map(|r| quote!(#r,));
    let key_params = func.key_params().map(|p| p.arg);
    let handle = Ident::new("__MEMOCACHE_HANDLE", Span::mixed_site());

    // `refresh_f` returns what the function returns; a body of `loop {}` has every type
    // but an `impl Trait` one (`!` does not implement the trait), which is an error of its
    // own already.
    let refresh_stub = if returns_impl_trait(func) || sig.variadic.is_some() {
        None
    } else {
        let unsafety = &sig.unsafety;
        let inputs = sig.inputs.iter().map(FnArg::to_token_stream);
        let output = &sig.output;
        Some(quote! {
            #cfgs
            #quiet
            #vis #asyncness #unsafety fn #refresh #generics (#(#inputs),*) #output #refresh_where {
                loop {}
            }
        })
    };

    quote! {
        #cfgs
        #quiet
        #vis #asyncness fn #invalidate #generics (#receiver #(#key_params),*) -> ::core::primitive::bool
        #helper_where
        {
            false
        }

        #cfgs
        #quiet
        #vis #asyncness fn #invalidate_all() #sized_only {}

        #refresh_stub

        #cfgs
        #quiet
        #vis fn #cache() -> &'static ::memocache::CacheHandle #sized_only {
            static #handle: ::memocache::CacheHandle =
                ::memocache::__private::Config::new().handle("");
            &#handle
        }
    }
}

fn is_cfg(attr: &Attribute) -> bool {
    attr.path().is_ident("cfg")
}

fn returns_impl_trait(func: &Function) -> bool {
    struct Find(bool);
    impl Visit<'_> for Find {
        fn visit_type_impl_trait(&mut self, _: &TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut find = Find(false);
    find.visit_return_type(&func.item.sig.output);
    find.0
}
