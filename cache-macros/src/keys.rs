//! The key and the storage policy a call passes to the runtime, written so that a type that
//! cannot be a key or a stored value gets one error, at the user's tokens, in the runtime's
//! words (its `#[diagnostic::on_unimplemented]` traits), and nothing else fails after it.
//!
//! Each part of the key (a parameter of the default key, an element of a `key = (a, b)`
//! tuple, or a whole `key = expr`) becomes `key(part).part()`; the policy comes with the
//! handle,
//! `__private::of::<R>(f_cache())` (or `ok`): method resolution picks the first inherent
//! method that applies along a chain of derefs, a borrowed or an owned key part, `Plain`,
//! `OkShared` or `OkOnly`, or else a stand-in whose method's bound is the error (see
//! `cache-runtime/src/key.rs` and `call/site.rs`). Inherent methods: no `use` to bring in.

use crate::args::Args;
use crate::model::{Function, ReturnKind};
use crate::signature::forwarded;
use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

/// The most elements a `key = (..)` tuple is split into: the runtime implements its key
/// trait for tuples of up to 12. A longer tuple is one part (and must be a key type).
const MAX_TUPLE: usize = 12;

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
    // `key(value).part()`, the opening tokens at `first`, the closing at `last`: the error
    // of a part that is not a key points at the receiver, `key(value)`.
    let mut value = Group::new(Delimiter::Parenthesis, value);
    value.set_span(last);
    let call = quote_spanned!(last=> .part());
    quote_spanned!(first=> ::memocache::__private::key #value #call)
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

/// The handle `cache` with the storage policy chosen from the return type:
/// `__private::of::<R>(f_cache())`, or `__private::ok::<R>(..)` for a `Result` of which
/// only `Ok` is stored, its tokens spanned at the return type: when the value cannot be
/// stored, the one error (of the cached function's `lookup`) points at `-> R`.
pub fn select(func: &Function, args: &Args, cache: &TokenStream) -> TokenStream {
    let ret = ret(func);
    let first = func.output.map_or_else(Span::call_site, Spanned::span);
    let of = if func.kind == ReturnKind::Result && !args.cache_errors.present() {
        Ident::new("ok", first)
    } else {
        Ident::new("of", first)
    };
    // rustc reports a method's bound at its receiver: a call whose own tokens are all at
    // `first`.
    let mut handle = Group::new(Delimiter::Parenthesis, cache.clone());
    handle.set_span(first);
    let path = quote_spanned!(first=> ::memocache::__private::#of::<#ret>);
    quote!(#path #handle)
}

/// The call of method `name` with `args` on the value [`select`] makes, the method and the
/// parentheses of its arguments spanned at the return type, as the receiver is: an error of
/// the call as a whole points there too, not at the attribute.
pub fn method(func: &Function, name: &str, args: TokenStream) -> TokenStream {
    let span = func.output.map_or_else(Span::call_site, Spanned::span);
    let name = Ident::new(name, span);
    let mut args = Group::new(Delimiter::Parenthesis, args);
    args.set_span(span);
    quote!(.#name #args)
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
