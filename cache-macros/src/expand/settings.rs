//! The settings a call passes to the runtime: where the entries live (the backend marker),
//! the store's configuration, and the entry's tags.

use super::Gen;
use crate::args::{Capacity, Eviction};
use crate::signature::duration;
use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use syn::Ident;

impl Gen<'_, '_> {
    /// Where the entries live: the backend marker every runtime call takes (see the
    /// runtime's `backend.rs`).
    pub(super) fn backend(&self) -> TokenStream {
        match self.args.redis.span {
            // Spanned at the keyword: a key or value that Redis cannot hold is reported there.
            Some(span) => quote::quote_spanned!(span=> ::memocache::__private::Redis),
            None => quote!(::memocache::__private::Memory),
        }
    }

    /// The store's configuration, as a closure that runs once, when the store is made.
    pub(super) fn config(&self) -> TokenStream {
        let args = self.args;
        let mut chain = TokenStream::new();
        for (name, slot) in [
            ("ttl", &args.ttl),
            ("tti", &args.tti),
            ("stale", &args.stale),
        ] {
            if let Some(d) = &slot.value {
                let method = Ident::new(name, slot.span.unwrap_or_else(Span::call_site));
                let d = duration(d);
                chain.extend(quote!(.#method(#d)));
            }
        }
        match &args.capacity.value {
            Some(Capacity::Lit(n, span)) => {
                let mut n = Literal::usize_unsuffixed(*n);
                n.set_span(*span);
                chain.extend(quote!(.capacity(#n)));
            }
            Some(Capacity::Expr(e)) => chain.extend(quote!(.capacity(#e))),
            None => {}
        }
        if args.unbounded.present() {
            chain.extend(quote!(.unbounded()));
        }
        if let Some(Eviction::Lru) = &args.eviction.value {
            chain.extend(quote!(.lru()));
        }
        if let Some(on) = &args.single_flight.value {
            chain.extend(quote!(.single_flight(#on)));
        }
        if let Some(d) = &args.near.value {
            let d = duration(d);
            chain.extend(quote!(.near(#d)));
        }
        if let Some(version) = &args.version.value {
            chain.extend(quote!(.version(#version)));
        }
        if args.tags.value.as_ref().is_some_and(|t| !t.is_empty()) {
            chain.extend(quote!(.tagged()));
        }
        if chain.is_empty() {
            quote!(::memocache::__private::Config::new)
        } else {
            quote!(|| ::memocache::__private::Config::new() #chain)
        }
    }

    /// The entry's tags, if it has any: computed on a miss only.
    pub(super) fn tags(&self) -> Option<TokenStream> {
        match &self.args.tags.value {
            Some(tags) if !tags.is_empty() => {
                Some(quote!([#(::memocache::__private::tag(&#tags)),*]))
            }
            _ => None,
        }
    }
}
