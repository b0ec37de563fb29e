//! The settings a call passes to the runtime: where the entries live (the backend marker),
//! the store's configuration, and the entry's tags.

use super::Gen;
use crate::args::{Capacity, Dur, Eviction};
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

    /// The store's configuration: the setters after `Config::new()`, and whether they are
    /// all of literals (then the chain is `const`, evaluated at compile time).
    fn config_chain(&self) -> (TokenStream, bool) {
        let args = self.args;
        let mut chain = TokenStream::new();
        let mut fixed = true;
        for (name, slot) in [
            ("ttl", &args.ttl),
            ("tti", &args.tti),
            ("stale", &args.stale),
        ] {
            if let Some(d) = &slot.value {
                let method = Ident::new(name, slot.span.unwrap_or_else(Span::call_site));
                fixed &= matches!(d, Dur::Lit(_));
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
            Some(Capacity::Expr(e)) => {
                fixed = false;
                chain.extend(quote!(.capacity(#e)));
            }
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
            fixed &= matches!(d, Dur::Lit(_));
            let d = duration(d);
            chain.extend(quote!(.near(#d)));
        }
        if let Some(version) = &args.version.value {
            chain.extend(quote!(.version(#version)));
        }
        if args.tags.value.as_ref().is_some_and(|t| !t.is_empty()) {
            chain.extend(quote!(.tagged()));
        }
        (chain, fixed)
    }

    /// The store's configuration as a function that builds it: `Config::new`, or
    /// `|| Config::new().ttl(..)` (what `SelfCaches::handle` takes).
    pub(super) fn config(&self) -> TokenStream {
        let (chain, _) = self.config_chain();
        if chain.is_empty() {
            quote!(::memocache::__private::Config::new)
        } else {
            quote!(|| ::memocache::__private::Config::new() #chain)
        }
    }

    /// The handle of the function's `static`: `Config::new().ttl(..).handle(name)`, built at
    /// compile time where every option is a literal; else the settings are built when the
    /// first cache is made (`Settings::Built(|| ..).handle(name)`).
    pub(super) fn new_handle(&self, name: &TokenStream) -> TokenStream {
        let (chain, fixed) = self.config_chain();
        let settings = if fixed {
            quote!(::memocache::__private::Config::new() #chain)
        } else {
            quote!(::memocache::__private::Settings::Built(|| ::memocache::__private::Config::new() #chain))
        };
        match self.args.redis.span {
            Some(_) => {
                let backend = self.backend();
                quote!(#settings.backed_handle::<#backend>(#name))
            }
            None => quote!(#settings.handle(#name)),
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
