//! Pieces of the generated signatures and calls: the helpers' names, how generated code
//! names parameters and siblings (which spans, which hygiene), parameters without their
//! `mut`, the lifetimes `invalidate_f` keeps, and literal durations.

use crate::args::Dur;
use crate::model::{Function, Param, lifetimes_in};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use std::collections::BTreeSet;
use syn::visit::Visit;
use syn::{GenericParam, Ident, Lifetime, Receiver, WherePredicate};

/// The helper names, spanned at the user's function name so that errors about them point
/// there.
pub struct HelperNames {
    pub worker: Ident,
    pub invalidate: Ident,
    pub invalidate_all: Ident,
    pub refresh: Ident,
    pub cache: Ident,
}

impl HelperNames {
    pub fn of(ident: &Ident) -> Self {
        let span = ident.span();
        HelperNames {
            worker: format_ident!("__memocache_{}", ident, span = span),
            invalidate: format_ident!("invalidate_{}", ident, span = span),
            invalidate_all: format_ident!("invalidate_all_{}", ident, span = span),
            refresh: format_ident!("refresh_{}", ident, span = span),
            cache: format_ident!("{}_cache", ident, span = span),
        }
    }
}

/// A parameter passed on by generated code: it resolves as the user's name does and errors
/// point at the parameter, but lints see generated code (`_unused` names passed on are not
/// "used underscore bindings").
pub fn forwarded(ident: &Ident) -> Ident {
    let mut ident = ident.clone();
    ident.set_span(Span::call_site().located_at(ident.span()));
    ident
}

/// A generated item's name where generated code calls it. The definitions are spanned at
/// the user's function name; the calls are the macro's own, so that when one fails to
/// resolve (an associated function taken for a free one) rustc does not suggest edits to
/// the user's signature.
pub fn sibling(name: &Ident) -> Ident {
    Ident::new(&name.to_string(), Span::call_site())
}

pub fn duration(d: &Dur) -> TokenStream {
    match d {
        Dur::Lit(nanos) => {
            const NANOS_PER_SEC: u64 = 1_000_000_000;
            const NANOS_PER_MILLI: u64 = 1_000_000;
            let (ctor, n) = if nanos % NANOS_PER_SEC == 0 {
                (quote!(from_secs), nanos / NANOS_PER_SEC)
            } else if nanos % NANOS_PER_MILLI == 0 {
                (quote!(from_millis), nanos / NANOS_PER_MILLI)
            } else {
                (quote!(from_nanos), *nanos)
            };
            let n = Literal::u64_unsuffixed(n);
            quote!(::core::time::Duration::#ctor(#n))
        }
        Dur::Expr(e) => e.to_token_stream(),
    }
}

/// `ident: Type`, without `mut` or attributes.
pub fn plain_param(p: &Param) -> TokenStream {
    let ty = p.ty;
    let colon = &p.arg.colon_token;
    match p.ident {
        Some(ident) => quote!(#ident #colon #ty),
        // Refused by validation; kept as written for completeness.
        None => {
            let pat = &p.arg.pat;
            quote!(#pat #colon #ty)
        }
    }
}

/// The receiver without a `mut` binding (`mut self` becomes `self`; `&mut self` stays).
pub fn plain_receiver(r: &Receiver) -> TokenStream {
    let this = &r.self_token;
    match (&r.reference, &r.colon_token) {
        (_, Some(colon)) => {
            let ty = &r.ty;
            quote!(#this #colon #ty)
        }
        (Some((and, lifetime)), None) => {
            let mutability = &r.mutability;
            quote!(#and #lifetime #mutability #this)
        }
        (None, None) => quote!(#this),
    }
}

fn lifetimes_of_predicate(p: &WherePredicate) -> BTreeSet<String> {
    struct Collect(BTreeSet<String>);
    impl Visit<'_> for Collect {
        fn visit_lifetime(&mut self, l: &Lifetime) {
            if l.ident != "static" && l.ident != "_" {
                self.0.insert(l.ident.to_string());
            }
        }
    }
    let mut c = Collect(BTreeSet::new());
    c.visit_where_predicate(p);
    c.0
}

/// The lifetimes (and their `where` bounds) that `invalidate_f`'s parameters and the
/// return type name; the others would be unused there.
pub fn invalidate_generics<'f>(
    func: &'f Function,
    params: &[&Param],
) -> (TokenStream, Vec<&'f WherePredicate>) {
    let generics = &func.item.sig.generics;
    let mut used = BTreeSet::new();
    for p in params {
        lifetimes_in(p.ty, &mut used);
    }
    if let Some(r) = func.receiver.filter(|_| func.key_uses_self()) {
        lifetimes_in(&r.ty, &mut used);
    }
    if let Some(ty) = func.output {
        lifetimes_in(ty, &mut used);
    }
    let predicates: Vec<&WherePredicate> = generics
        .where_clause
        .iter()
        .flat_map(|w| &w.predicates)
        .collect();
    // A kept lifetime keeps those it is bounded by.
    loop {
        let before = used.len();
        for param in generics.lifetimes() {
            if used.contains(&param.lifetime.ident.to_string()) {
                used.extend(param.bounds.iter().map(|l| l.ident.to_string()));
            }
        }
        for predicate in &predicates {
            if let WherePredicate::Lifetime(p) = predicate
                && used.contains(&p.lifetime.ident.to_string())
            {
                used.extend(p.bounds.iter().map(|l| l.ident.to_string()));
            }
        }
        if used.len() == before {
            break;
        }
    }
    let kept: Vec<&GenericParam> = generics
        .params
        .iter()
        .filter(|p| match p {
            GenericParam::Lifetime(l) => used.contains(&l.lifetime.ident.to_string()),
            _ => false,
        })
        .collect();
    let kept_predicates: Vec<&WherePredicate> = predicates
        .into_iter()
        .filter(|p| lifetimes_of_predicate(p).is_subset(&used))
        .collect();
    let params = if kept.is_empty() {
        TokenStream::new()
    } else {
        quote!(<#(#kept),*>)
    };
    (params, kept_predicates)
}

/// `where a, b`, or nothing for no predicates.
pub fn where_clause(predicates: &[TokenStream]) -> TokenStream {
    if predicates.is_empty() {
        TokenStream::new()
    } else {
        quote!(where #(#predicates),*)
    }
}
