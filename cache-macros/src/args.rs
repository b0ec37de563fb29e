//! The grammar of `#[cached(...)]`: a comma-separated list of options, each at most once.
//!
//! ```text
//! ttl = "5m" | ttl = <Duration expr>          tti, stale, near: the same
//! capacity = 1000 | capacity = <usize expr>   unbounded
//! eviction = "lru" | eviction = "tinylfu"
//! key = <expr>      name = "literal"          unless = <expr>
//! cache_errors      tags = [<expr>, ...]      single_flight = true | false
//! redis           version = "literal"
//! ```
//!
//! Values stay syn nodes (`Expr`, `LitStr`) so that every later error points at the
//! user's tokens. Literal durations and capacities are checked here, on the literal.
//! Mistakes that do not derail the parse (a bad duration, an unknown or repeated option)
//! are collected so that they are all reported at once; a syntax error ends the parse.

use crate::ctxt::Errors;
use crate::duration;
use crate::spelling::closest;
use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::Parse;
use syn::parse::ParseStream;
use syn::{Expr, ExprLit, ExprUnary, Ident, Lit, LitBool, LitStr, Token, UnOp, token};

/// The options' keywords, and their names in the order the errors list them.
macro_rules! keywords {
    ($($name:ident),* $(,)?) => {
        mod kw {
            $(syn::custom_keyword!($name);)*
        }
        const OPTIONS: &[&str] = &[$(stringify!($name)),*];
    };
}

keywords!(
    ttl,
    tti,
    stale,
    capacity,
    unbounded,
    eviction,
    key,
    name,
    unless,
    cache_errors,
    tags,
    single_flight,
    redis,
    near,
    version,
);

/// An option's place in the attribute: where its keyword was, and its value if the value
/// was valid. An option given with a bad value is still "present" (so `stale` after a
/// malformed `ttl` does not also complain that `ttl` is missing).
pub struct Slot<T> {
    pub span: Option<Span>,
    pub value: Option<T>,
    /// The option's place in the list (0 for the first), to report on the later of two
    /// options that conflict.
    pub position: usize,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            span: None,
            value: None,
            position: 0,
        }
    }
}

impl<T> Slot<T> {
    pub fn present(&self) -> bool {
        self.span.is_some()
    }
}

/// A duration option's value.
pub enum Dur {
    /// A checked literal, in nanoseconds.
    Lit(u64),
    /// Any expression; rustc checks that it is a `Duration`.
    Expr(Expr),
}

/// `capacity`'s value.
pub enum Capacity {
    /// A checked literal (>= 1), with its span.
    Lit(usize, Span),
    /// Any expression; rustc checks that it is a `usize`.
    Expr(Expr),
}

/// `eviction`'s value: which entry a full cache evicts.
pub enum Eviction {
    /// `"tinylfu"`: the default, frequency-aware policy.
    TinyLfu,
    /// `"lru"`: the least recently used entry.
    Lru,
}

#[derive(Default)]
pub struct Args {
    pub ttl: Slot<Dur>,
    pub tti: Slot<Dur>,
    pub stale: Slot<Dur>,
    pub capacity: Slot<Capacity>,
    pub unbounded: Slot<()>,
    pub eviction: Slot<Eviction>,
    pub key: Slot<Expr>,
    pub name: Slot<LitStr>,
    pub unless: Slot<Expr>,
    pub cache_errors: Slot<()>,
    pub tags: Slot<Vec<Expr>>,
    pub single_flight: Slot<LitBool>,
    pub redis: Slot<()>,
    pub near: Slot<Dur>,
    pub version: Slot<LitStr>,
}

impl Args {
    /// Parses the attribute's tokens. Every error goes to `cx`; what parsed is returned.
    pub fn parse(tokens: TokenStream, cx: &mut Errors) -> Args {
        crate::ctxt::parse_list(tokens, cx, parse_option)
    }
}

/// Each option's parse: `name => |span| value`, where `value` is the `Option` to record
/// (`None` for a value that was reported as wrong), `span` the keyword's span.
macro_rules! options {
    ($input:ident, $la:ident, $args:ident, $position:ident, $cx:ident;
     $($name:ident => |$span:ident| $value:expr,)*) => {
        $(
            if $la.peek(kw::$name) {
                let $span = $input.parse::<kw::$name>()?.span;
                let value = $value;
                set_once(&mut $args.$name, stringify!($name), ($span, $position), value, $cx);
                return Ok(());
            }
        )*
    };
}

fn parse_option(
    input: ParseStream,
    args: &mut Args,
    position: usize,
    cx: &mut Errors,
) -> syn::Result<()> {
    let la = input.lookahead1();
    options! { input, la, args, position, cx;
        ttl => |span| duration(input, "ttl", span, cx)?,
        tti => |span| duration(input, "tti", span, cx)?,
        stale => |span| duration(input, "stale", span, cx)?,
        capacity => |span| capacity(input, span, cx)?,
        unbounded => |_span| flag(input, "unbounded", cx)?,
        eviction => |span| eviction(input, span, cx)?,
        key => |span| {
            equals(input, "key", span, "key = (id, lang.clone())")?;
            Some(input.parse()?)
        },
        name => |span| literal(input, "name", span, "name = \"prices\"", cx)?,
        unless => |span| {
            equals(input, "unless", span, "unless = Option::is_none")?;
            Some(input.parse()?)
        },
        cache_errors => |_span| flag(input, "cache_errors", cx)?,
        tags => |span| Some(tags(input, span)?),
        single_flight => |span| {
            equals(input, "single_flight", span, "single_flight = false")?;
            boolean(input, "single_flight", cx)?
        },
        redis => |_span| flag(input, "redis", cx)?,
        near => |span| duration(input, "near", span, cx)?,
        version => |span| literal(input, "version", span, "version = \"2\"", cx)?,
    }
    if input.peek(Ident::peek_any) {
        unknown_option(input, cx)
    } else {
        Err(la.error())
    }
}

/// Records an option's value, or reports the option's second occurrence.
fn set_once<T>(
    slot: &mut Slot<T>,
    name: &str,
    (span, position): (Span, usize),
    value: Option<T>,
    cx: &mut Errors,
) {
    if slot.present() {
        cx.at(span, format!("`{name}` is given twice: keep one"));
    } else {
        *slot = Slot {
            span: Some(span),
            value,
            position,
        };
    }
}

/// The `=` after an option that takes a value.
fn equals(input: ParseStream, name: &str, span: Span, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            span,
            format!("`{name}` takes a value: write `{example}`"),
        ))
    }
}

/// `true` or `false`; anything else is reported (and skipped) with what to write.
fn boolean(input: ParseStream, name: &str, cx: &mut Errors) -> syn::Result<Option<LitBool>> {
    let expr: Expr = input.parse()?;
    if let Expr::Lit(ExprLit {
        lit: Lit::Bool(b), ..
    }) = peel(&expr)
    {
        return Ok(Some(b.clone()));
    }
    cx.spanned(
        &expr,
        format!("`{name}` takes `true` or `false`: write `{name} = false` to turn it off"),
    );
    Ok(None)
}

/// A flag takes no value; `unbounded = true` is reported and its value skipped.
fn flag(input: ParseStream, name: &str, cx: &mut Errors) -> syn::Result<Option<()>> {
    if input.peek(Token![=]) {
        let eq = input.parse::<Token![=]>()?;
        let value: Expr = input.parse()?;
        cx.spanned(
            quote::quote!(#eq #value),
            format!("`{name}` is a flag: write `{name}` alone, without a value"),
        );
        return Ok(None);
    }
    Ok(Some(()))
}

fn duration(
    input: ParseStream,
    name: &str,
    span: Span,
    cx: &mut Errors,
) -> syn::Result<Option<Dur>> {
    equals(input, name, span, &format!("{name} = \"30s\""))?;
    let expr: Expr = input.parse()?;
    Ok(match peel(&expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => match duration::parse(&lit.value()) {
            Ok(nanos) => Some(Dur::Lit(nanos)),
            Err(e) => {
                cx.spanned(lit, e);
                None
            }
        },
        Expr::Lit(other) => {
            cx.spanned(
                other,
                format!(
                    "`{name}` takes a duration string such as \"30s\" or \"1h30m\", \
                     or an expression of type `std::time::Duration`"
                ),
            );
            None
        }
        _ => Some(Dur::Expr(expr)),
    })
}

fn capacity(input: ParseStream, span: Span, cx: &mut Errors) -> syn::Result<Option<Capacity>> {
    equals(input, "capacity", span, "capacity = 1000")?;
    let expr: Expr = input.parse()?;
    const AT_LEAST_ONE: &str =
        "`capacity` must be at least 1; for a cache with no limit, write `unbounded`";
    Ok(match peel(&expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => match lit.base10_parse::<usize>() {
            Ok(0) => {
                cx.spanned(lit, AT_LEAST_ONE);
                None
            }
            Ok(n) => Some(Capacity::Lit(n, lit.span())),
            Err(_) => {
                cx.spanned(lit, "`capacity` does not fit in a `usize`");
                None
            }
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_), ..
        }) => {
            cx.spanned(&expr, AT_LEAST_ONE);
            None
        }
        _ => Some(Capacity::Expr(expr)),
    })
}

/// `eviction = "lru"` or `"tinylfu"`; another name is reported, on the literal.
fn eviction(input: ParseStream, span: Span, cx: &mut Errors) -> syn::Result<Option<Eviction>> {
    const EXAMPLE: &str = "eviction = \"lru\"";
    equals(input, "eviction", span, EXAMPLE)?;
    if !input.peek(LitStr) {
        return Err(input.error(format!("`eviction` takes a string literal: `{EXAMPLE}`")));
    }
    let lit: LitStr = input.parse()?;
    Ok(match lit.value().as_str() {
        "lru" => Some(Eviction::Lru),
        "tinylfu" => Some(Eviction::TinyLfu),
        other => {
            cx.spanned(
                &lit,
                format!(
                    "unknown eviction policy \"{other}\": write `eviction = \"lru\"` (the least \
                     recently used entry goes) or `eviction = \"tinylfu\"` (the default: \
                     frequency-aware)"
                ),
            );
            None
        }
    })
}

/// A non-empty string literal option: `name = "prices"`, `version = "2"`.
fn literal(
    input: ParseStream,
    option: &str,
    span: Span,
    example: &str,
    cx: &mut Errors,
) -> syn::Result<Option<LitStr>> {
    equals(input, option, span, example)?;
    if !input.peek(LitStr) {
        return Err(input.error(format!("`{option}` takes a string literal: `{example}`")));
    }
    let lit: LitStr = input.parse()?;
    if lit.value().is_empty() {
        cx.spanned(&lit, format!("`{option}` cannot be empty"));
        return Ok(None);
    }
    Ok(Some(lit))
}

fn tags(input: ParseStream, span: Span) -> syn::Result<Vec<Expr>> {
    const EXAMPLE: &str = "tags = [format!(\"user:{id}\"), \"users\"]";
    equals(input, "tags", span, EXAMPLE)?;
    if !input.peek(token::Bracket) {
        return Err(input.error(format!("`tags` takes a list in brackets: `{EXAMPLE}`")));
    }
    let content;
    syn::bracketed!(content in input);
    let list = content.parse_terminated(Expr::parse, Token![,])?;
    Ok(list.into_iter().collect())
}

/// Reports an unknown option, then skips its value so that the rest still parses.
fn unknown_option(input: ParseStream, cx: &mut Errors) -> syn::Result<()> {
    let ident = input.call(Ident::parse_any)?;
    let hint = match suggest(&ident.to_string()) {
        Some(known) => format!(" (did you mean `{known}`?)"),
        None => String::new(),
    };
    cx.spanned(
        &ident,
        format!(
            "unknown option `{ident}`{hint}; the options are: {}",
            OPTIONS.join(", ")
        ),
    );
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        input.parse::<Expr>()?;
    }
    Ok(())
}

/// The known option closest to a misspelled one, or the memocache spelling of an option
/// of the `cached` crate.
fn suggest(unknown: &str) -> Option<&'static str> {
    let alias = match unknown {
        "time" | "expire" | "expiry" | "ttl_secs" | "lifespan" => Some("ttl"),
        "size" | "max_size" | "max_capacity" | "max_entries" | "limit" => Some("capacity"),
        "convert" | "key_fn" => Some("key"),
        "sync_writes" => Some("single_flight"),
        "result" | "with_cached_flag" => Some("cache_errors"),
        "tag" => Some("tags"),
        "policy" | "eviction_policy" => Some("eviction"),
        _ => None,
    };
    alias.or_else(|| closest(unknown, OPTIONS.iter().copied()))
}

/// Looks through the invisible groups that `macro_rules!` wraps around `$x:expr`.
fn peel(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => peel(&g.expr),
        Expr::Paren(p) => peel(&p.expr),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("tll"), Some("ttl"));
        assert_eq!(suggest("capacty"), Some("capacity"));
        assert_eq!(suggest("size"), Some("capacity"));
        assert_eq!(suggest("sync_writes"), Some("single_flight"));
        assert_eq!(suggest("frobnicate"), None);
        assert_eq!(suggest("x"), None);
    }
}
