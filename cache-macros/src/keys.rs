//! The key and the storage policy a call passes to the runtime, written so that a type that
//! cannot be a key or a stored value gets one error, at the user's tokens, in the runtime's
//! words (its `#[diagnostic::on_unimplemented]` traits), and nothing else fails after it.
//!
//! Each part of the key (a parameter of the default key, an element of a `key = (a, b)`
//! tuple, or a whole `key = expr`) becomes `(&&&&KeyPart(part)).part()`, and the policy
//! `(&&ValueOf::<R>::new()).policy()` (or `(&&&&OkOf::<R>::new()).policy()`): method
//! resolution picks the first
//! impl that applies, a borrowed or an owned key part, `Plain` or `OkOnly`, or else a
//! stand-in whose method's bound is the error (see `cache-runtime/src/key.rs` and
//! `policy.rs`). The traits are brought into scope by [`uses`].

use crate::args::Args;
use crate::model::{Function, ReturnKind};
use crate::signature::forwarded;
use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::Expr;
use syn::spanned::Spanned;

/// The most elements a `key = (..)` tuple is split into: the runtime implements its key
/// trait for tuples of up to 12. A longer tuple is one part (and must be a key type).
const MAX_TUPLE: usize = 12;

/// The `use` that puts the choosing traits in scope, in each function that builds a key and
/// a policy, and the handle's calls where `site` (each only where it is used: no lint to
/// allow).
pub fn uses(func: &Function, args: &Args, site: bool) -> TokenStream {
    let key = has_parts(func, args).then(|| quote!(KeyChoice as _,));
    let site = site.then(|| quote!(Site as _,));
    quote!(use ::memocache::__private::{#key #site ValueChoice as _};)
}

/// Whether the key has a part to choose the form of (`()` and `key = ()` have none).
fn has_parts(func: &Function, args: &Args) -> bool {
    fn expr_has_parts(expr: &Expr) -> bool {
        match peel(expr) {
            Expr::Tuple(t) if t.elems.len() <= MAX_TUPLE => t.elems.iter().any(expr_has_parts),
            _ => true,
        }
    }
    match &args.key.value {
        Some(expr) => expr_has_parts(expr),
        None => func.params.iter().any(|p| p.ident.is_some()),
    }
}

/// The key a call looks up: the parts of `key = ...`, else the parameters (`symbol` for a
/// `&str`, `&n` for a `u64`), alone or in a tuple.
pub fn key(func: &Function, args: &Args) -> TokenStream {
    if let Some(expr) = &args.key.value {
        return expr_key(expr);
    }
    let parts: Vec<TokenStream> = func
        .params
        .iter()
        .filter_map(|p| {
            let ident = forwarded(p.ident?);
            let span = ident.span();
            let value = if p.is_ref {
                quote!(#ident)
            } else {
                quote_spanned!(span=> &#ident)
            };
            Some(part(value, (span, span)))
        })
        .collect();
    match parts.as_slice() {
        [] => quote!(()),
        [one] => one.clone(),
        many => quote!((#(#many),*)),
    }
}

/// `key = (a, (b, c))` is split into its elements, so that each can be borrowed or owned on
/// its own (`(symbol, page)` with `symbol: &str` looks up with the `&str`).
fn expr_key(expr: &Expr) -> TokenStream {
    match peel(expr) {
        Expr::Tuple(t) if t.elems.len() <= MAX_TUPLE => {
            let parts = t.elems.iter().map(expr_key);
            quote!((#(#parts,)*))
        }
        _ => part(expr.to_token_stream(), ends(expr)),
    }
}

/// One part, its tokens spanned from the first to the last of the user's, so that its error
/// underlines all of them.
fn part(value: TokenStream, (first, last): (Span, Span)) -> TokenStream {
    // `(&&&&KeyPart(value)).part()`, the opening tokens at `first`, the closing at `last`.
    let mut value = Group::new(Delimiter::Parenthesis, value);
    value.set_span(last);
    let wrapped = quote_spanned!(first=> &&&&::memocache::__private::KeyPart #value);
    let mut receiver = Group::new(Delimiter::Parenthesis, wrapped);
    receiver.set_span(first);
    let call = quote_spanned!(last=> .part());
    quote!(#receiver #call)
}

/// The spans of an expression's first and last tokens.
fn ends(expr: &Expr) -> (Span, Span) {
    token_ends(expr.to_token_stream(), expr.span())
}

/// `first` and the span of the last of `tokens`.
fn token_ends(tokens: TokenStream, first: Span) -> (Span, Span) {
    let last = tokens.into_iter().last().map_or(first, |tt| match tt {
        TokenTree::Group(g) => g.span_close(),
        other => other.span(),
    });
    (first, last)
}

/// The storage policy, chosen from the return type and spanned at it: when the value cannot
/// be stored, the one error points at `-> R`.
pub fn policy(func: &Function, args: &Args) -> TokenStream {
    let ret = ret(func);
    let (first, last) = match func.output {
        Some(ty) => token_ends(ty.to_token_stream(), ty.span()),
        None => (Span::call_site(), Span::call_site()),
    };
    // `(&&ValueOf::<R>::new()).policy()`, the opening tokens at the type's first, the
    // closing at its last, so that the error underlines the whole type.
    let selector = if func.kind == ReturnKind::Result && !args.cache_errors.present() {
        quote_spanned!(first=> &&&&::memocache::__private::OkOf::<#ret>::new())
    } else {
        quote_spanned!(first=> &&::memocache::__private::ValueOf::<#ret>::new())
    };
    let mut receiver = Group::new(Delimiter::Parenthesis, selector);
    receiver.set_span(first);
    let call = quote_spanned!(last=> .policy());
    quote!(#receiver #call)
}

/// The return type, `()` when there is none.
pub fn ret(func: &Function) -> TokenStream {
    match func.output {
        Some(ty) => ty.to_token_stream(),
        None => quote!(()),
    }
}

pub fn ret_span(func: &Function) -> Span {
    func.output.map_or_else(Span::call_site, Spanned::span)
}

/// Looks through parentheses-free groups that `macro_rules!` wraps around `$x:expr`.
fn peel(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => peel(&g.expr),
        other => other,
    }
}
