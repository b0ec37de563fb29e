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
//!     let t = ok::<Result<f64, Error>>(price_cache()).lookup((P::key(symbol).part(), P::key(&day).part()));
//!     t.run((symbol, day), __memocache_price)
//! }
//! fn __memocache_price(symbol: &str, day: u32) -> Result<f64, Error> { BODY }
//! pub fn invalidate_price(symbol: &str, day: u32) -> bool { ok::<..>(price_cache()).invalidate(/* the key */) }
//! pub fn invalidate_all_price() { price_cache().clear(); }
//! pub fn refresh_price(symbol: &str, day: u32) -> Result<f64, Error> { /* as price, with `.refresh(..)` */ }
//! pub fn price_cache() -> &'static CacheHandle { static HANDLE: CacheHandle = P::Config::new().ttl(..).handle(name); &HANDLE }
//! ```
//! The body appears once, in the worker: the user's function under a hidden name, so
//! `return`, `?` and `mut` bindings mean what they meant. The lookup answers a hit's value or
//! runs the worker under its ticket (`Lookup::run`). An `async fn` is the same with
//! `lookup_async(..).await` and `run_async(worker(..)).await`; a function whose entries are
//! not only in memory (`redis`), or whose stale entries refresh in the background, calls
//! `ok::<R>(price_cache()).call(mode, backend).lookup..(..)`. The store's
//! settings are built in the handle's `static`: at compile time where every option is a
//! literal, else when the first cache is made. The key and the policy are written by `keys`:
//! the policy comes with the handle (`ok::<R>(..)`, `of`), chosen by the
//! runtime's inherent methods, which need no `use`. Every generic runtime function the
//! expansion calls is generic over the key and value types, and over the body's closure
//! only where it must call it (`Ticket::run`, a few lines): what a miss does is compiled
//! once per key and value type, not once per function.
//!
//! In an `impl` block or a trait the same items are associated functions called through
//! `Self::`, and the cache is per `Self` type: the function, `refresh_f` and `f_cache` each
//! hold a `static SelfCaches` and call `.handle::<Self>(config)` (see the runtime's
//! `per_self.rs`). Each has its own because in a trait's default method the function itself
//! must stay callable through `dyn Trait`, so it cannot call helpers that are
//! `where Self: Sized` (which they are, to keep the trait dyn-compatible: an associated
//! function without a receiver would make it not). `refresh_f` takes that bound only when it
//! has a receiver (the function without one may call it for a `stale` refresh).

use crate::args::Args;
use crate::attrs::{Generated, allows, split_attrs};
use crate::keys;
use crate::model::{Function, Param, Place};
use crate::signature::{HelperNames, invalidate_generics, plain_param, plain_receiver};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;
use syn::ext::IdentExt;

mod handles;
mod settings;
mod stale;
mod worker;

/// What an expansion puts where: `here` replaces the function; `helpers` goes to an inherent
/// `impl` of the type when the function is in a trait `impl` (`Place::TraitImpl`), and is
/// empty otherwise.
pub struct Expansion {
    pub here: TokenStream,
    pub helpers: TokenStream,
}

pub fn expand(func: &Function, args: &Args) -> Expansion {
    let g = Gen::new(func, args);
    let wrapper = g.wrapper();
    let worker = g.worker();
    let invalidate = g.invalidate();
    let invalidate_all = g.invalidate_all();
    let refresh = g.refresh();
    let cache = g.cache();
    let helpers = quote! {
        #worker
        #invalidate
        #invalidate_all
        #refresh
        #cache
    };
    if func.place == Place::TraitImpl {
        Expansion {
            here: wrapper,
            helpers,
        }
    } else {
        let marker = g.trait_impl_marker();
        Expansion {
            here: quote!(#marker #wrapper #helpers),
            helpers: TokenStream::new(),
        }
    }
}

/// The helpers' docs; `{}` is the link to the cached function.
const INVALIDATE_DOC: &str =
    "Removes the cached entry of {} for these arguments; `true` if one was there.";
const INVALIDATE_ALL_DOC: &str = "Removes every cached entry of {}.";
const REFRESH_DOC: &str =
    "Runs the body of {} now, stores the result as a miss would, and returns it.";

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
        // In the inherent `impl` that takes a trait `impl`'s helpers, `Self::f` is the
        // trait's method: shown, not linked.
        let link = if func.item.sig.ident.to_string().starts_with("r#")
            || func.place == Place::TraitImpl
        {
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

    /// In an `impl` block or a trait (`Place::Impl`: which of them, the attribute cannot
    /// see), an associated function that does nothing in an inherent `impl` or a trait, and
    /// whose name is the fix where it is an error: in a trait `impl`, rustc's first error
    /// then reads "method `put_memocache_cached_impl_on_this_trait_impl__f` is not a member
    /// of trait `T`" (each helper follows, as not a member either). `where Self: Sized`
    /// keeps a trait that gets it dyn-compatible.
    fn trait_impl_marker(&self) -> Option<TokenStream> {
        if self.func.place != Place::Impl {
            return None;
        }
        let shared = &self.shared_attrs;
        let name = quote::format_ident!(
            "put_memocache_cached_impl_on_this_trait_impl__{}",
            self.func.item.sig.ident.unraw()
        );
        Some(quote! {
            #(#shared)*
            #[doc(hidden)]
            #[allow(dead_code, non_snake_case)]
            fn #name() where Self: ::core::marker::Sized {}
        })
    }

    fn wrapper(&self) -> TokenStream {
        let attrs = &self.wrapper_attrs;
        // In a trait `impl`, what `#[cached_impl]` put there is the helpers' visibility.
        let vis = Some(&self.func.item.vis).filter(|_| self.func.place != Place::TraitImpl);
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

    /// The cached call: look the key up; the answer is a hit's value, or on a miss what the
    /// worker returns, run under the lookup's ticket. `refresh` always runs the worker (for
    /// `refresh_f`).
    fn cached_call(&self, refresh: bool) -> TokenStream {
        let (site, cache) = self.own_handle();
        let select = keys::select(self.func, self.args, &cache);
        let key = keys::key(self.func, self.args);
        let lookup_var = Ident::new("__memocache_t", Span::mixed_site());
        let background = if refresh {
            None
        } else {
            self.background_refresh()
        };
        let is_async = self.func.is_async();
        // The short form for entries in memory (`of::<R>(f_cache()).lookup(..)`); the
        // general one names the mode and the backend (`(..).call(mode, backend)..`).
        let lookup = if self.args.redis.span.is_none() && background.is_none() {
            let method = match (refresh, is_async) {
                (false, false) => "lookup",
                (true, false) => "refresh",
                (false, true) => "lookup_async",
                (true, true) => "refresh_async",
            };
            let method = keys::method(self.func, method, key.clone());
            quote!(#select #method)
        } else {
            let mode = if refresh {
                quote!(::memocache::__private::Mode::Refresh)
            } else {
                quote!(::memocache::__private::Mode::Lookup)
            };
            let backend = self.backend();
            let call = keys::method(self.func, "call", quote!(#mode, #backend));
            let call = quote!(#select #call);
            match (is_async, background) {
                (false, None) => quote!(#call.lookup(#key)),
                (false, Some(refresh)) => quote!(#call.lookup_stale(#key, #refresh)),
                (true, None) => quote!(#call.lookup_async(#key)),
                (true, Some(refresh)) => quote!(#call.lookup_stale_async(#key, #refresh)),
            }
        };
        let lookup = if is_async {
            quote!(#lookup.await)
        } else {
            lookup
        };
        let lookup = match self.tags() {
            Some(tags) => quote!(#lookup.tags(|| #tags)),
            None => lookup,
        };
        let body = self.call_worker();
        // Spanned at the return type too: when it cannot be stored, the errors that follow
        // from the first one point at the same place.
        let ret_span = keys::ret_span(self.func);
        let unless = self.args.unless.value.as_ref();
        // A sync body is its arguments and a function pointer: `run` is compiled once per
        // signature, not once per function as it would be for a closure.
        let (args, worker) = self.worker_with_args();
        let run = match (is_async, unless) {
            (false, None) => {
                let run = Ident::new("run", ret_span);
                quote!(#lookup_var.#run(#args, #worker))
            }
            (false, Some(unless)) => {
                let run = Ident::new("run_unless", ret_span);
                quote!(#lookup_var.#run(#unless, #args, #worker))
            }
            (true, None) => {
                let run = Ident::new("run_async", ret_span);
                quote!(#lookup_var.#run(#body).await)
            }
            (true, Some(unless)) => {
                let run = Ident::new("run_unless_async", ret_span);
                quote!(#lookup_var.#run(#unless, #body).await)
            }
        };
        quote! {
            #site
            let #lookup_var = #lookup;
            #run
        }
    }

    fn invalidate(&self) -> TokenStream {
        let head = self.helper_head(Generated::Invalidate, INVALIDATE_DOC, true);
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
        let (generics, kept) = invalidate_generics(self.func, &key_params);
        let where_clause = self.helper_where(false, true, &kept);
        let cache = self.cache_call();
        let select = keys::select(self.func, self.args, &cache);
        let key = keys::key(self.func, self.args);
        let ret_span = keys::ret_span(self.func);
        // The helpers of an `async fn` are `async` all the way down: a remote store is
        // awaited, not blocked on.
        let call = if self.args.redis.span.is_none() && !self.func.is_async() {
            let invalidate = Ident::new("invalidate", ret_span);
            quote!(#select.#invalidate(#key))
        } else if self.func.is_async() {
            let backend = self.backend();
            let invalidate = Ident::new("invalidate_async", ret_span);
            quote!(#select.#invalidate(#backend, #key).await)
        } else {
            let backend = self.backend();
            let invalidate = Ident::new("invalidate_in", ret_span);
            quote!(#select.#invalidate(#backend, #key))
        };
        quote! {
            #head
            #asyncness fn #name #generics (#receiver #(#params),*) -> ::core::primitive::bool
            #where_clause
            {
                #call
            }
        }
    }

    fn invalidate_all(&self) -> TokenStream {
        let head = self.helper_head(Generated::Helper, INVALIDATE_ALL_DOC, false);
        let asyncness = &self.func.item.sig.asyncness;
        let name = &self.invalidate_all;
        let cache = self.cache_call();
        let where_clause = self.helper_where(false, true, &[]);
        // In memory, the handle's `clear` is all there is to it; a remote store also drops
        // the entries of processes before this one's first call.
        let clear = if self.args.redis.span.is_none() {
            quote!(#cache.clear();)
        } else {
            let backend = self.backend();
            if self.func.is_async() {
                quote!(::memocache::__private::invalidate_all_async(#cache, #backend).await;)
            } else {
                quote!(::memocache::__private::invalidate_all(#cache, #backend);)
            }
        };
        quote! {
            #head
            #asyncness fn #name() #where_clause {
                #clear
            }
        }
    }

    fn refresh(&self) -> TokenStream {
        let sig = &self.func.item.sig;
        let doc = if sig.unsafety.is_some() {
            format!("{REFRESH_DOC}\n\n# Safety\n\nAs for {{}}.")
        } else {
            REFRESH_DOC.to_owned()
        };
        let head = self.helper_head(Generated::Helper, &doc, true);
        let (asyncness, unsafety, name) = (&sig.asyncness, &sig.unsafety, &self.refresh);
        let generics = &sig.generics;
        let where_clause = self.helper_where(true, self.func.receiver.is_some(), &[]);
        let inputs = self.plain_inputs(true);
        let output = &sig.output;
        let call = self.cached_call(true);
        quote! {
            #head
            #asyncness #unsafety fn #name #generics (#inputs) #output
            #where_clause
            {
                #call
            }
        }
    }

    /// What every helper starts with: the user's `cfg`s and lint levels, its doc (`doc`, with
    /// `{}` for the link to the function), the lints the expansion allows there, and the
    /// function's visibility.
    ///
    /// `lazy`: the helper is `#[inline]`, so that it is compiled only where it is called,
    /// as a generic function is. A crate that never calls `refresh_f` or `invalidate_f`
    /// compiles no machine code for them, nor for the runtime's paths only they take
    /// (measured: the compile bench's 100 functions, 57 781 -> 51 590 lines of LLVM IR).
    /// Not on `invalidate_all_f`, whose code is one call, nor on the cache's handle, which
    /// the function itself calls.
    fn helper_head(&self, kind: Generated, doc: &str, lazy: bool) -> TokenStream {
        let shared = &self.shared_attrs;
        let allows = allows(kind);
        let doc = doc.replace("{}", &self.link);
        let vis = &self.func.item.vis;
        let inline = lazy.then(|| quote!(#[inline]));
        quote!(#(#shared)* #[doc = #doc] #allows #inline #vis)
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
}
