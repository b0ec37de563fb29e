//! What `#[cached]` refuses, each error on the offending tokens.
//!
//! Everything is checked and every error collected, so one compile shows them all.

use crate::args::Args;
use crate::ctxt::Errors;
use crate::model::{Function, ReturnKind, peel};
use quote::ToTokens;
use syn::visit::{self, Visit};
use syn::{GenericArgument, GenericParam, Lifetime, PathArguments, Type, TypeImplTrait};

/// The most parameters the default key can hold: the runtime implements its borrowed-key
/// trait for tuples of up to 12.
const MAX_DEFAULT_KEY: usize = 12;

pub fn check(func: &Function, args: &Args, cx: &mut Errors) {
    check_options(func, args, cx);
    check_signature(func, args, cx);
    if let Some(other) = crate::attrs::find(&func.item.attrs, "invalidates") {
        cx.spanned(other, crate::attrs::CACHED_AND_INVALIDATES);
    }
}

fn check_options(func: &Function, args: &Args, cx: &mut Errors) {
    if let (Some(capacity), Some(unbounded)) = (args.capacity.span, args.unbounded.span) {
        // On the later of the two: the one that contradicts what was already said.
        let later = if args.capacity.position < args.unbounded.position {
            unbounded
        } else {
            capacity
        };
        cx.at(
            later,
            "`capacity` and `unbounded` exclude each other: keep one",
        );
    }
    if let Some(stale) = args.stale.span
        && !args.ttl.present()
    {
        cx.at(
            stale,
            "`stale` needs a `ttl`: it is how long, once the `ttl` has run out, an entry is \
             still served while it is refreshed",
        );
    }
    if let Some(span) = args.cache_errors.span
        && func.kind != ReturnKind::Result
        && func.output.is_some()
    {
        cx.at(
            span,
            "`cache_errors` only applies to a function returning `Result`: every value this \
             function returns is stored already",
        );
    }
    check_redis(args, cx);
}

/// The Redis options: only with the `redis` feature, `redis` with a `ttl`, the others with
/// `redis`, and nothing that Redis cannot do.
fn check_redis(args: &Args, cx: &mut Errors) {
    let Some(redis) = args.redis.span else {
        for (span, name) in [(args.near.span, "near"), (args.version.span, "version")] {
            if let Some(span) = span {
                cx.at(
                    span,
                    format!("`{name}` goes with `redis`: it is about the copies of Redis entries"),
                );
            }
        }
        return;
    };
    if !cfg!(feature = "redis") {
        cx.at(
            redis,
            "`redis` needs memocache's `redis` feature: `memocache = { version = \"0.1\", \
             features = [\"redis\"] }` in Cargo.toml",
        );
        return;
    }
    if !args.ttl.present() {
        cx.at(
            redis,
            "`redis` needs a `ttl`: Redis keeps an entry until its `PX` runs out, and every \
             process reads it until then; write `ttl = \"10m\"`",
        );
    }
    if let Some(tti) = args.tti.span {
        cx.at(
            tti,
            "`tti` cannot go with `redis`: every hit in every process would have to move the \
             entry's expiry in Redis; use `ttl`",
        );
    }
    if !args.near.present() {
        for (span, name) in [
            (args.capacity.span, "capacity"),
            (args.unbounded.span, "unbounded"),
        ] {
            if let Some(span) = span {
                cx.at(
                    span,
                    format!(
                        "`{name}` bounds the local copies, and with `redis` alone there are none: \
                         add `near = \"30s\"` to keep local copies, or drop `{name}`"
                    ),
                );
            }
        }
    }
}

fn check_signature(func: &Function, args: &Args, cx: &mut Errors) {
    let sig = &func.item.sig;
    if let Some(constness) = &sig.constness {
        cx.spanned(
            constness,
            "#[cached] cannot go on a `const fn`: a cache is run-time state",
        );
    }
    if let Some(variadic) = &sig.variadic {
        cx.spanned(variadic, "#[cached] cannot go on a variadic function");
    }
    for param in &sig.generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            GenericParam::Type(t) => cx.spanned(
                t,
                "#[cached] does not support type parameters: one cache cannot hold the \
                 values of every instantiation; cache a non-generic function and call it \
                 from the generic one",
            ),
            GenericParam::Const(c) => cx.spanned(
                c,
                "#[cached] does not support const parameters: one cache cannot hold the \
                 values of every instantiation; make it a normal parameter",
            ),
        }
    }
    for param in &func.params {
        if param.ident.is_none() {
            cx.spanned(
                &param.arg.pat,
                "#[cached] needs a plain name for each parameter, to build the key and the \
                 helper functions: write `name: Type` and destructure in the body",
            );
        }
        if let Type::Reference(r) = peel(param.ty)
            && let Some(mutability) = &r.mutability
        {
            cx.spanned(
                quote::quote!(#r.and_token #mutability),
                "#[cached] cannot take a `&mut` parameter: a cache hit would skip the \
                 body's writes through it",
            );
        }
        report_impl_trait(
            param.ty,
            "#[cached] cannot take an `impl Trait` parameter: `invalidate_*` and \
             `refresh_*` need a type they can name; use a concrete type",
            cx,
        );
    }
    match (&sig.output, func.output) {
        (_, Some(ty)) => report_impl_trait(
            ty,
            "#[cached] cannot store an `impl Trait` return value: the cache needs a type it \
             can name; return a concrete type",
            cx,
        ),
        (syn::ReturnType::Type(_, ty), None) => cx.spanned(
            ty,
            "#[cached] on a function returning `()`: there is no value to cache",
        ),
        (syn::ReturnType::Default, None) => cx.spanned(
            &sig.ident,
            "#[cached] on a function that returns nothing: there is no value to cache; \
             give it a return type",
        ),
    }
    check_owned_return(func, args, cx);
    if !args.key.present()
        && let Some(extra) = func.params.get(MAX_DEFAULT_KEY)
    {
        cx.spanned(
            extra.arg,
            format!(
                "the default key holds at most {MAX_DEFAULT_KEY} parameters and this \
                 function has {}: write the key with `key = ...`, from the parameters \
                 that tell calls apart",
                func.params.len()
            ),
        );
    }
}

fn report_impl_trait(ty: &Type, message: &str, cx: &mut Errors) {
    struct Find<'m, 'c> {
        message: &'m str,
        cx: &'c mut Errors,
    }
    impl<'ast> Visit<'ast> for Find<'_, '_> {
        fn visit_type_impl_trait(&mut self, node: &'ast TypeImplTrait) {
            self.cx.spanned(node, self.message);
            visit::visit_type_impl_trait(self, node);
        }
    }
    Find { message, cx }.visit_type(ty);
}

/// A stored value outlives the call: it cannot borrow (`-> &str`, `-> Cow<'a, str>`). Said
/// here, where the fix can be named, rather than by the borrow checker.
fn check_owned_return(func: &Function, args: &Args, cx: &mut Errors) {
    let Some(ty) = func.output else { return };
    let ok_only = func.kind == ReturnKind::Result && !args.cache_errors.present();
    let stored = if ok_only {
        first_type_arg(ty).unwrap_or(ty)
    } else {
        ty
    };
    if !borrows(stored) {
        return;
    }
    let instead = match peel(stored) {
        Type::Reference(r) => match peel(&r.elem) {
            Type::Path(p) if p.path.is_ident("str") => {
                "`String` or `Arc<str>` instead of `&str`".into()
            }
            Type::Slice(s) => {
                let elem = s.elem.to_token_stream();
                format!("`Vec<{elem}>` or `Arc<[{elem}]>` instead of `&[{elem}]`")
            }
            other => {
                let t = other.to_token_stream();
                format!("`{t}` (or `Arc<{t}>`) instead of a reference to it")
            }
        },
        _ => "a type that owns its data (`String` for `&str`, `Vec<T>` for `&[T]`, `T` for `&T`)"
            .into(),
    };
    let what = if ok_only {
        "the `Ok` value"
    } else {
        "the value"
    };
    cx.spanned(
        stored,
        format!(
            "#[cached] keeps {what} this function returns after the call has ended, so it \
             must own its data: return {instead}"
        ),
    );
}

/// `T` of `Result<T, E>` (or of an alias `Result<T>`).
fn first_type_arg(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = peel(ty) else { return None };
    let PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Whether a type borrows: a reference or a lifetime other than `'static`, outside function
/// pointer and `Fn(..)` types (whose lifetimes are their own).
fn borrows(ty: &Type) -> bool {
    struct Find(bool);
    impl Visit<'_> for Find {
        fn visit_type_reference(&mut self, r: &syn::TypeReference) {
            if r.lifetime.as_ref().is_none_or(|l| l.ident != "static") {
                self.0 = true;
            }
            visit::visit_type_reference(self, r);
        }
        fn visit_lifetime(&mut self, l: &Lifetime) {
            if l.ident != "static" {
                self.0 = true;
            }
        }
        fn visit_type_bare_fn(&mut self, _: &syn::TypeBareFn) {}
        fn visit_parenthesized_generic_arguments(
            &mut self,
            _: &syn::ParenthesizedGenericArguments,
        ) {
        }
        fn visit_type_impl_trait(&mut self, _: &TypeImplTrait) {}
    }
    let mut find = Find(false);
    find.visit_type(ty);
    find.0
}
