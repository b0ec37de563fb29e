//! What `#[cached]` refuses, each error on the offending tokens.
//!
//! Everything is checked and every error collected, so one compile shows them all.

use crate::args::Args;
use crate::ctxt::Errors;
use crate::model::{Function, ReturnKind, peel};
use syn::visit::{self, Visit};
use syn::{GenericParam, Type, TypeImplTrait};

/// The most parameters the default key can hold: the runtime implements its borrowed-key
/// trait for tuples of up to 12.
const MAX_DEFAULT_KEY: usize = 12;

pub fn check(func: &Function, args: &Args, cx: &mut Errors) {
    check_options(func, args, cx);
    check_signature(func, args, cx);
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
    for (slot, name) in [(args.redis.span, "redis"), (args.near.span, "near")] {
        if let Some(span) = slot {
            cx.at(
                span,
                format!(
                    "`{name}` is not available yet: the Redis store arrives with the `redis` feature"
                ),
            );
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
