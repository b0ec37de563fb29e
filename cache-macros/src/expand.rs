//! Turns a validated function into the cached function and its helpers. Cannot fail.
//!
//! Input:
//! ```text
//! #[cached(ttl = "5m")]
//! pub fn price(symbol: &str, day: u32) -> Result<f64, Error> { BODY }
//! ```
//! Output (paths shortened; `P` is `::memocache::__private`):
//! ```text
//! pub fn price(symbol: &str, day: u32) -> Result<f64, Error> {
//!     let ticket = match P::lookup(price_cache(), P::Mode::Lookup, P::OkOnly, || P::Config::new().ttl(..), (symbol, &day)) {
//!         P::Lookup::Hit(v) => return v,
//!         P::Lookup::Miss(t) => t,
//!     };
//!     ticket.run((), P::never, move || __memocache_price(symbol, day))
//! }
//! fn __memocache_price(symbol: &str, day: u32) -> Result<f64, Error> { BODY }
//! pub fn invalidate_price(symbol: &str, day: u32) -> bool { P::invalidate::<R, _, _>(price_cache(), P::OkOnly, (symbol, &day)) }
//! pub fn invalidate_all_price() { price_cache().clear(); }
//! pub fn refresh_price(symbol: &str, day: u32) -> Result<f64, Error> { /* as price, with P::Mode::Refresh */ }
//! pub fn price_cache() -> &'static CacheHandle { static HANDLE: CacheHandle = P::new_handle(..); &HANDLE }
//! ```
//! The body appears once, in the worker: the user's function under a hidden name, so
//! `return`, `?` and `mut` bindings mean what they meant. An `async fn` is the same with
//! `lookup_async(..).await` and `run_async(.., worker(..)).await`. In an `impl` block the
//! same items are associated functions called through `Self::`.

use crate::args::{Args, Capacity};
use crate::attrs::{Generated, allows, split_attrs};
use crate::model::{Function, Param, ReturnKind};
use crate::signature::{
    HelperNames, duration, forwarded, invalidate_generics, plain_param, plain_receiver, sibling,
};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

pub fn expand(func: &Function, args: &Args) -> TokenStream {
    let g = Gen::new(func, args);
    let wrapper = g.wrapper();
    let worker = g.worker();
    let invalidate = g.invalidate();
    let invalidate_all = g.invalidate_all();
    let refresh = g.refresh();
    let cache = g.cache();
    let marker = g.trait_impl_marker();
    quote! {
        #marker
        #wrapper
        #worker
        #invalidate
        #invalidate_all
        #refresh
        #cache
    }
}

struct Gen<'f, 'a> {
    func: &'f Function<'a>,
    args: &'f Args,
    /// The user's attributes that belong on the public function.
    wrapper_attrs: Vec<TokenStream>,
    /// The `cfg`s and lint levels that belong on every generated item.
    shared_attrs: Vec<TokenStream>,
    worker: Ident,
    invalidate: Ident,
    invalidate_all: Ident,
    refresh: Ident,
    cache: Ident,
    /// ``[`f`]`` or ``[`f`](Self::f)``, for the helpers' docs.
    link: String,
}

impl<'f, 'a> Gen<'f, 'a> {
    fn new(func: &'f Function<'a>, args: &'f Args) -> Self {
        let (wrapper_attrs, shared_attrs) = split_attrs(&func.item.attrs);
        let names = HelperNames::of(&func.item.sig.ident);
        let shown = func.item.sig.ident.unraw();
        // Rustdoc takes `(r#type)` for a URL: a raw name is shown, not linked.
        let link = if func.item.sig.ident.to_string().starts_with("r#") {
            format!("`{shown}`")
        } else if func.in_impl {
            format!("[`{shown}`](Self::{shown})")
        } else {
            format!("[`{shown}`]")
        };
        Gen {
            func,
            args,
            wrapper_attrs,
            shared_attrs,
            worker: names.worker,
            invalidate: names.invalidate,
            invalidate_all: names.invalidate_all,
            refresh: names.refresh,
            cache: names.cache,
            link,
        }
    }

    /// In an `impl` block, a constant that does nothing in an inherent one and, in a trait
    /// impl (which the macro cannot tell apart), makes rustc's first error say what is
    /// wrong: "const `CACHED_FN_GOES_IN_AN_INHERENT_IMPL__f` is not a member of trait".
    fn trait_impl_marker(&self) -> Option<TokenStream> {
        if !self.func.in_impl {
            return None;
        }
        let shared = &self.shared_attrs;
        let name = format_ident!(
            "CACHED_FN_GOES_IN_AN_INHERENT_IMPL__{}",
            self.func.item.sig.ident
        );
        Some(quote! {
            #(#shared)*
            #[doc(hidden)]
            #[allow(dead_code, non_upper_case_globals)]
            const #name: () = ();
        })
    }

    fn wrapper(&self) -> TokenStream {
        let attrs = &self.wrapper_attrs;
        let vis = &self.func.item.vis;
        let sig = &self.func.item.sig;
        let (asyncness, unsafety, abi, fn_token, ident) = (
            &sig.asyncness,
            &sig.unsafety,
            &sig.abi,
            &sig.fn_token,
            &sig.ident,
        );
        let generics = &sig.generics;
        let where_clause = &sig.generics.where_clause;
        let inputs = self.plain_inputs(true);
        let output = &sig.output;
        let call = self.cached_call(false);
        quote! {
            #(#attrs)*
            #vis #asyncness #unsafety #abi #fn_token #ident #generics (#inputs) #output
            #where_clause
            {
                #call
            }
        }
    }

    /// The user's function under a hidden name: the body, exactly as written, in a
    /// function of its own, so that `return`, `?` and the parameters' `mut` mean what they
    /// meant, and the body is compiled once for the cached function and `refresh_f`.
    fn worker(&self) -> TokenStream {
        let shared = &self.shared_attrs;
        let allows = allows(Generated::Worker);
        let sig = &self.func.item.sig;
        let (asyncness, unsafety, worker) = (&sig.asyncness, &sig.unsafety, &self.worker);
        let generics = &sig.generics;
        let where_clause = &sig.generics.where_clause;
        let receiver = self.func.receiver.map(|r| quote!(#r,));
        let params = self.func.params.iter().map(|p| {
            if self.func.body_reads(p) {
                p.arg.to_token_stream()
            } else {
                let (attrs, ty) = (&p.arg.attrs, &p.arg.ty);
                quote!(#(#attrs)* _: #ty)
            }
        });
        let inputs = quote!(#receiver #(#params),*);
        let output = &sig.output;
        let block = &self.func.item.block;
        quote! {
            #(#shared)*
            #[doc(hidden)]
            #[inline]
            #allows
            #asyncness #unsafety fn #worker #generics (#inputs) #output
            #where_clause
            #block
        }
    }

    /// The cached call: look the key up; on a hit return the value, on a miss run the
    /// worker with the ticket. `refresh` always runs the worker (for `refresh_f`).
    fn cached_call(&self, refresh: bool) -> TokenStream {
        let cache = self.cache_call();
        let mode = if refresh {
            quote!(::memocache::__private::Mode::Refresh)
        } else {
            quote!(::memocache::__private::Mode::Lookup)
        };
        let policy = self.policy();
        let config = self.config();
        let key = self.key();
        let tags = self.tags();
        let unless = match &self.args.unless.value {
            Some(expr) => expr.to_token_stream(),
            None => quote!(::memocache::__private::never),
        };
        let ticket = Ident::new("__memocache_ticket", Span::mixed_site());
        let hit = Ident::new("__memocache_v", Span::mixed_site());
        let miss = Ident::new("__memocache_t", Span::mixed_site());
        let lookup_args = quote!(#cache, #mode, #policy, #config, #key);
        let background = if refresh {
            None
        } else {
            self.background_refresh()
        };
        let body = self.call_worker();
        // Spanned at the return type too: when it cannot be stored, the errors that follow
        // from the first one point at the same place.
        let ret_span = self.ret_span();
        let (lookup, run) = if self.func.is_async() {
            let run_async = Ident::new("run_async", ret_span);
            let lookup = match background {
                Some(refresh) => {
                    quote!(::memocache::__private::lookup_stale_async(#lookup_args, #refresh))
                }
                None => quote!(::memocache::__private::lookup_async(#lookup_args)),
            };
            (
                quote!(#lookup.await),
                quote!(#ticket.#run_async(#tags, #unless, #body).await),
            )
        } else {
            let run = Ident::new("run", ret_span);
            let lookup = match background {
                Some(refresh) => {
                    quote!(::memocache::__private::lookup_stale(#lookup_args, #refresh))
                }
                None => quote!(::memocache::__private::lookup(#lookup_args)),
            };
            (lookup, quote!(#ticket.#run(#tags, #unless, move || #body)))
        };
        quote! {
            let #ticket = match #lookup {
                ::memocache::__private::Lookup::Hit(#hit) => return #hit,
                ::memocache::__private::Lookup::Miss(#miss) => #miss,
            };
            #run
        }
    }

    /// For `stale`: the closure that refreshes an entry in the background (a thread, or a
    /// task for an `async fn`), given the entry's owned key, by calling `refresh_f` with
    /// the arguments rebuilt from it. That takes the default key (all of the arguments),
    /// no receiver (it cannot go to another thread), and a safe function (an `unsafe`
    /// one's caller vouches for its own call only). Otherwise the caller that finds the
    /// entry stale refreshes it.
    fn background_refresh(&self) -> Option<TokenStream> {
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

    fn invalidate(&self) -> TokenStream {
        let shared = &self.shared_attrs;
        let allows = allows(Generated::Invalidate);
        let doc = format!(
            "Removes the cached entry of {} for these arguments; `true` if one was there.",
            self.link
        );
        let vis = &self.func.item.vis;
        let asyncness = &self.func.item.sig.asyncness;
        let name = &self.invalidate;
        let receiver = self
            .func
            .receiver
            .filter(|_| self.func.key_uses_self())
            .map(|r| {
                let r = plain_receiver(r);
                quote!(#r,)
            });
        let key_params: Vec<&Param> = self.func.key_params().collect();
        let params = key_params.iter().map(|p| plain_param(p));
        let (generics, where_clause) = invalidate_generics(self.func, &key_params);
        let ret = self.ret();
        let cache = self.cache_call();
        let policy = self.policy();
        let key = self.key();
        let invalidate_fn = quote_spanned!(self.ret_span()=> ::memocache::__private::invalidate);
        quote! {
            #(#shared)*
            #[doc = #doc]
            #allows
            #vis #asyncness fn #name #generics (#receiver #(#params),*) -> ::core::primitive::bool
            #where_clause
            {
                #invalidate_fn::<#ret, _, _>(#cache, #policy, #key)
            }
        }
    }

    fn invalidate_all(&self) -> TokenStream {
        let shared = &self.shared_attrs;
        let allows = allows(Generated::Helper);
        let doc = format!("Removes every cached entry of {}.", self.link);
        let vis = &self.func.item.vis;
        let asyncness = &self.func.item.sig.asyncness;
        let name = &self.invalidate_all;
        let cache = self.cache_call();
        quote! {
            #(#shared)*
            #[doc = #doc]
            #allows
            #vis #asyncness fn #name() {
                #cache.clear();
            }
        }
    }

    fn refresh(&self) -> TokenStream {
        let shared = &self.shared_attrs;
        let allows = allows(Generated::Helper);
        let doc = format!(
            "Runs the body of {} now, stores the result as a miss would, and returns it.",
            self.link
        );
        let sig = &self.func.item.sig;
        let safety = sig.unsafety.map(|_| {
            let doc = format!("# Safety\n\nAs for {}.", self.link);
            quote!(#[doc = ""] #[doc = #doc])
        });
        let vis = &self.func.item.vis;
        let (asyncness, unsafety, name) = (&sig.asyncness, &sig.unsafety, &self.refresh);
        let generics = &sig.generics;
        let where_clause = &sig.generics.where_clause;
        let inputs = self.plain_inputs(true);
        let output = &sig.output;
        let call = self.cached_call(true);
        quote! {
            #(#shared)*
            #[doc = #doc]
            #safety
            #allows
            #vis #asyncness #unsafety fn #name #generics (#inputs) #output
            #where_clause
            {
                #call
            }
        }
    }

    fn cache(&self) -> TokenStream {
        let shared = &self.shared_attrs;
        let allows = allows(Generated::Helper);
        let doc = format!("The cache of {}: its name, size and statistics.", self.link);
        let vis = &self.func.item.vis;
        let name = &self.cache;
        let handle = Ident::new("__MEMOCACHE_HANDLE", Span::mixed_site());
        let fn_name = self.func.item.sig.ident.unraw().to_string();
        let display_name = match &self.args.name.value {
            Some(lit) => lit.to_token_stream(),
            None => quote!(::core::concat!(::core::module_path!(), "::", #fn_name)),
        };
        // In an impl block the default name is `<type>::f`, known only where `Self` is.
        let reference = if self.func.in_impl && self.args.name.value.is_none() {
            quote!(#handle.__in_impl(::core::any::type_name::<Self>))
        } else {
            quote!(&#handle)
        };
        quote! {
            #(#shared)*
            #[doc = #doc]
            #[must_use]
            #[inline]
            #allows
            #vis fn #name() -> &'static ::memocache::CacheHandle {
                static #handle: ::memocache::CacheHandle =
                    ::memocache::__private::new_handle(#display_name, #fn_name);
                #reference
            }
        }
    }

    /// `worker(self, a, b)`, through `Self::` in an impl, in `unsafe` as the function
    /// is; not awaited.
    fn call_worker(&self) -> TokenStream {
        let worker = sibling(&self.worker);
        let path = if self.func.in_impl {
            quote!(Self::#worker)
        } else {
            quote!(#worker)
        };
        let receiver = self.func.receiver.map(|r| {
            let this = &r.self_token;
            quote!(#this,)
        });
        let args = self
            .func
            .params
            .iter()
            .filter_map(|p| p.ident.map(forwarded));
        let call = quote!(#path(#receiver #(#args),*));
        if self.func.item.sig.unsafety.is_some() {
            quote!(unsafe { #call })
        } else {
            call
        }
    }

    /// The receiver and parameters without `mut` bindings or attributes: the signature of
    /// the wrapper and of `refresh_f`.
    fn plain_inputs(&self, with_receiver: bool) -> TokenStream {
        let receiver = self
            .func
            .receiver
            .filter(|_| with_receiver)
            .map(plain_receiver);
        let params = self.func.params.iter().map(plain_param);
        let all = receiver.into_iter().chain(params);
        quote!(#(#all),*)
    }

    fn cache_call(&self) -> TokenStream {
        let cache = sibling(&self.cache);
        if self.func.in_impl {
            quote!(Self::#cache())
        } else {
            quote!(#cache())
        }
    }

    fn ret(&self) -> TokenStream {
        match self.func.output {
            Some(ty) => ty.to_token_stream(),
            None => quote!(()),
        }
    }

    fn ret_span(&self) -> Span {
        self.func.output.map_or_else(Span::call_site, Spanned::span)
    }

    /// `OkOnly` or `Plain`, spanned at the return type: when the type cannot be stored,
    /// rustc's error points at `-> R`.
    fn policy(&self) -> TokenStream {
        let span = self.ret_span();
        if self.func.kind == ReturnKind::Result && !self.args.cache_errors.present() {
            quote_spanned!(span=> ::memocache::__private::OkOnly)
        } else {
            quote_spanned!(span=> ::memocache::__private::Plain)
        }
    }

    /// The store's configuration, as a closure that runs once, when the store is made.
    fn config(&self) -> TokenStream {
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
        if let Some(on) = &args.single_flight.value {
            chain.extend(quote!(.single_flight(#on)));
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

    /// The key a call looks up: `Owned(expr)` for `key = expr`, else the parameters as
    /// borrowed forms (`symbol` for a `&str`, `&n` for a `u64`), alone or in a tuple.
    fn key(&self) -> TokenStream {
        if let Some(expr) = &self.args.key.value {
            return quote!(::memocache::__private::Owned(#expr));
        }
        let parts: Vec<TokenStream> = self
            .func
            .params
            .iter()
            .filter_map(|p| {
                let ident = forwarded(p.ident?);
                Some(if p.is_ref {
                    quote!(#ident)
                } else {
                    quote_spanned!(ident.span()=> &#ident)
                })
            })
            .collect();
        match parts.as_slice() {
            [] => quote!(()),
            [one] => one.clone(),
            many => quote!((#(#many),*)),
        }
    }

    fn tags(&self) -> TokenStream {
        match &self.args.tags.value {
            Some(tags) if !tags.is_empty() => {
                quote!([#(::memocache::__private::tag(&#tags)),*])
            }
            _ => quote!(()),
        }
    }
}
