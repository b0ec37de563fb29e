//! The names an expression or a body may read, found in its tokens: every identifier that is
//! not a field, method or path continuation (`a.b`, `a.b()`, `a::b`), plus the captures of
//! format strings (`"{symbol}"`, `"{symbol:?}"`). A name after `..` or `..=` is read
//! (`&s[..n]`, `Struct { ..base }`, `0..=n`): only a single `.` makes a field.
//!
//! A superset is harmless where it is used (an extra parameter in `invalidate_f`, a copy kept
//! for nothing); a miss would make generated code fail to compile. Macro calls' tokens,
//! which syn does not parse, are looked into as well.

use proc_macro2::{Span, TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use syn::ext::IdentExt;
use syn::{Ident, Lit};

/// Calls `found` with each name `tokens` may read and where it is, in order, until it says
/// to stop.
fn each_name(
    tokens: TokenStream,
    found: &mut impl FnMut(&str, Span) -> ControlFlow<()>,
) -> ControlFlow<()> {
    // How many `.` and `:` came right before this token: one `.` makes a field or method,
    // two `:` a path continuation.
    let mut dots = 0;
    let mut colons = 0;
    for tt in tokens {
        let mut dot = false;
        let mut colon = false;
        match tt {
            TokenTree::Group(g) => each_name(g.stream(), found)?,
            TokenTree::Ident(ident) => {
                if dots != 1 && colons < 2 {
                    found(&ident.unraw().to_string(), ident.span())?;
                }
            }
            TokenTree::Punct(p) => {
                dot = p.as_char() == '.';
                colon = p.as_char() == ':';
            }
            TokenTree::Literal(lit) => {
                let span = lit.span();
                if let Lit::Str(s) = Lit::new(lit) {
                    for name in format_captures(&s.value()) {
                        found(name, span)?;
                    }
                }
            }
        }
        dots = if dot { dots + 1 } else { 0 };
        colons = if colon { colons + 1 } else { 0 };
    }
    ControlFlow::Continue(())
}

/// The names `tokens` may read.
pub fn names_in(tokens: TokenStream) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let _ = each_name(tokens, &mut |name, _| {
        names.insert(name.to_owned());
        ControlFlow::Continue(())
    });
    names
}

/// Counts how often `tokens` may read each name, into `out`.
pub fn count_names(tokens: TokenStream, out: &mut BTreeMap<String, usize>) {
    let _ = each_name(tokens, &mut |name, _| {
        *out.entry(name.to_owned()).or_default() += 1;
        ControlFlow::Continue(())
    });
}

/// Where `tokens` first read `name`, if they do.
pub fn first_read(tokens: TokenStream, name: &str) -> Option<Span> {
    let mut at = None;
    let _ = each_name(tokens, &mut |found, span| {
        if found == name {
            at = Some(span);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    at
}

/// The names a format string captures: `{name}`, `{name:?}`, `{name:>8}`; `{{` escapes.
fn format_captures(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        while let Some(open) = rest.find('{') {
            rest = &rest[open + 1..];
            if let Some(after) = rest.strip_prefix('{') {
                rest = after;
                continue;
            }
            let end = rest.find(['}', ':']).unwrap_or(rest.len());
            let name = rest[..end].trim();
            rest = &rest[end..];
            if syn::parse_str::<Ident>(name).is_ok() {
                return Some(name);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn a_name_after_one_dot_is_a_field_after_two_a_value() {
        let names = names_in(quote!(a.b + c.d() + &s[..n] + (0..=m).len() + X { ..base }));
        for read in ["a", "c", "s", "n", "m", "base", "X"] {
            assert!(names.contains(read), "{read} in {names:?}");
        }
        for field in ["b", "d", "len"] {
            assert!(!names.contains(field), "{field} in {names:?}");
        }
    }

    #[test]
    fn paths_and_format_captures() {
        let names = names_in(quote!(std::mem::take(v) + format!("{id}:{name:?} {{no}}")));
        assert!(names.contains("std") && names.contains("v") && names.contains("id"));
        assert!(names.contains("name") && !names.contains("mem") && !names.contains("no"));
        let mut counts = BTreeMap::new();
        count_names(quote!(x + x.y + x), &mut counts);
        assert_eq!(counts["x"], 3);
        assert!(first_read(quote!(a.result + result), "result").is_some());
        assert!(first_read(quote!(a.result), "result").is_none());
    }
}
