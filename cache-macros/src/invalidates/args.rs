//! The grammar of `#[invalidates(...)]`: a comma-separated list of targets and flags.
//!
//! ```text
//! f(args)  path::f(args)  Self::f(args)    ->  invalidate_f(args), with that path
//! self.f(args)                              ->  self.invalidate_f(args)
//! all(f, Self::g, ...)                      ->  invalidate_all_f(), Self::invalidate_all_g()
//! tag(expr)                                 ->  memocache::invalidate_tag(&expr.to_string())
//! before  always                            flags, each at most once
//! ```
//!
//! A cached function named like a keyword (`all`, `tag`, `before`, `always`) is named by a
//! path: `self::tag(x)`. Values stay syn nodes so that every later error points at the
//! user's tokens. Mistakes that do not derail the parse (a repeated flag, a name without its
//! arguments, a malformed `all`) are collected; a syntax error ends the parse.

use crate::ctxt::Errors;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprPath, Ident, Token, token};

mod kw {
    syn::custom_keyword!(before);
    syn::custom_keyword!(always);
    syn::custom_keyword!(all);
    syn::custom_keyword!(tag);
}

const EXPECTED: &str = "expected a target: `f(args)`, `Self::f(args)`, `self.f(args)`, \
                        `all(f)` or `tag(expr)`; or a flag: `before`, `always`";

/// One target, as written.
pub enum Target {
    /// `f(args)`, `module::f(args)`, `Self::f(args)`: `invalidate_f` with that path.
    Entry {
        path: ExprPath,
        paren: token::Paren,
        args: Vec<Expr>,
    },
    /// `self.f(args)`: the helper takes `&self` (the key reads it).
    Method {
        receiver: Token![self],
        dot: Token![.],
        method: Ident,
        paren: token::Paren,
        args: Vec<Expr>,
    },
    /// One path of `all(..)`: `invalidate_all_f` with that path.
    All { path: ExprPath },
    /// `tag(expr)`.
    Tag { keyword: Span, expr: Expr },
}

impl Target {
    /// The arguments the target evaluates.
    pub fn args(&self) -> &[Expr] {
        match self {
            Target::Entry { args, .. } | Target::Method { args, .. } => args,
            Target::Tag { expr, .. } => std::slice::from_ref(expr),
            Target::All { .. } => &[],
        }
    }

    /// The tokens as written, for errors that underline the whole target.
    pub fn tokens(&self) -> TokenStream {
        match self {
            Target::Entry { path, paren, args } => {
                let mut tokens = path.to_token_stream();
                paren.surround(&mut tokens, |t| t.extend(quote!(#(#args),*)));
                tokens
            }
            Target::Method {
                receiver,
                dot,
                method,
                paren,
                args,
            } => {
                let mut tokens = quote!(#receiver #dot #method);
                paren.surround(&mut tokens, |t| t.extend(quote!(#(#args),*)));
                tokens
            }
            Target::All { path } => path.to_token_stream(),
            Target::Tag { expr, .. } => expr.to_token_stream(),
        }
    }
}

#[derive(Default)]
pub struct List {
    pub targets: Vec<Target>,
    /// Targets written, well-formed or not: an empty list is one that names none.
    pub written: usize,
    /// Where `before` was written.
    pub before: Option<Span>,
    /// Where `always` was written.
    pub always: Option<Span>,
}

impl List {
    /// Parses the attribute's tokens. Every error goes to `cx`; what parsed is returned.
    pub fn parse(tokens: TokenStream, cx: &mut Errors) -> List {
        crate::ctxt::parse_list(tokens, cx, parse_item)
    }
}

fn parse_item(
    input: ParseStream,
    list: &mut List,
    _position: usize,
    cx: &mut Errors,
) -> syn::Result<()> {
    // A keyword followed by parentheses is a target (`all(..)`, `tag(..)`, or a cached
    // function named `before`); alone, it is a flag.
    let call = input.peek2(token::Paren);
    if input.peek(kw::before) && !call {
        let span = input.parse::<kw::before>()?.span;
        flag(input, "before", span, &mut list.before, cx)
    } else if input.peek(kw::always) && !call {
        let span = input.parse::<kw::always>()?.span;
        flag(input, "always", span, &mut list.always, cx)
    } else if input.peek(kw::all) && call {
        list.written += 1;
        input.parse::<kw::all>()?;
        all(input, list, cx)
    } else if input.peek(kw::tag) && call {
        list.written += 1;
        let keyword = input.parse::<kw::tag>()?.span;
        tag(input, keyword, list, cx)
    } else if input.peek(Token![self]) && input.peek2(Token![.]) {
        list.written += 1;
        method(input, list, cx)
    } else if input.peek(Ident::peek_any) || input.peek(Token![::]) || input.peek(Token![<]) {
        // A path: `f`, `Self::f`, `self::f`, `crate::m::f`, `<T>::f`.
        list.written += 1;
        entry(input, list, cx)
    } else {
        Err(syn::Error::new(input.span(), EXPECTED))
    }
}

/// A flag takes no value; `before = true` is reported and its value skipped.
fn flag(
    input: ParseStream,
    name: &str,
    span: Span,
    slot: &mut Option<Span>,
    cx: &mut Errors,
) -> syn::Result<()> {
    if input.peek(Token![=]) {
        let eq = input.parse::<Token![=]>()?;
        let value: Expr = input.parse()?;
        cx.spanned(
            quote!(#eq #value),
            format!("`{name}` is a flag: write `{name}` alone, without a value"),
        );
    }
    if slot.is_some() {
        cx.at(span, format!("`{name}` is given twice: keep one"));
    } else {
        *slot = Some(span);
    }
    Ok(())
}

/// `f(args)` and its paths; a name without arguments is reported and skipped.
fn entry(input: ParseStream, list: &mut List, cx: &mut Errors) -> syn::Result<()> {
    let path: ExprPath = input.parse()?;
    if !input.peek(token::Paren) {
        not_called(&path, cx);
        return Ok(());
    }
    let content;
    let paren = syn::parenthesized!(content in input);
    let args = arguments(&content)?;
    list.targets.push(Target::Entry { path, paren, args });
    Ok(())
}

fn method(input: ParseStream, list: &mut List, cx: &mut Errors) -> syn::Result<()> {
    let receiver = input.parse::<Token![self]>()?;
    let dot = input.parse::<Token![.]>()?;
    let method: Ident = input.parse()?;
    if !input.peek(token::Paren) {
        cx.spanned(
            quote!(#receiver #dot #method),
            format!(
                "a method target is a call: write `self.{method}(..)` with the key's \
                 arguments (the helper takes `&self`), or `all(Self::{method})` to drop every entry"
            ),
        );
        return Ok(());
    }
    let content;
    let paren = syn::parenthesized!(content in input);
    let args = arguments(&content)?;
    list.targets.push(Target::Method {
        receiver,
        dot,
        method,
        paren,
        args,
    });
    Ok(())
}

fn arguments(content: ParseStream) -> syn::Result<Vec<Expr>> {
    let args = Punctuated::<Expr, Token![,]>::parse_terminated(content)?;
    Ok(args.into_iter().collect())
}

/// `all(f, Self::g, ...)`: one target per path.
fn all(input: ParseStream, list: &mut List, cx: &mut Errors) -> syn::Result<()> {
    let content;
    let paren = syn::parenthesized!(content in input);
    let items = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    if items.is_empty() {
        cx.at(
            paren.span.join(),
            "`all` needs the cached function's name: `all(f)` drops every entry of `f`",
        );
    }
    for item in items {
        match item {
            Expr::Path(path) => list.targets.push(Target::All { path }),
            Expr::Call(call) => cx.spanned(
                &call,
                "`all` takes the cached function's name, without arguments: `all(f)`; \
                 for one entry, write the call itself: `f(args)`",
            ),
            Expr::Field(field) => cx.spanned(
                &field,
                format!(
                    "`all` takes a path, and `invalidate_all_*` never takes `self`: write \
                     `all(Self::{})`",
                    field.member.to_token_stream()
                ),
            ),
            other => cx.spanned(&other, "`all` takes the cached function's name: `all(f)`"),
        }
    }
    Ok(())
}

/// `tag(expr)`: exactly one expression.
fn tag(input: ParseStream, keyword: Span, list: &mut List, cx: &mut Errors) -> syn::Result<()> {
    let content;
    let paren = syn::parenthesized!(content in input);
    let items = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    let mut items = items.into_iter();
    match (items.next(), items.next()) {
        (Some(expr), None) => list.targets.push(Target::Tag { keyword, expr }),
        (None, _) => cx.at(
            paren.span.join(),
            "`tag` needs the tag: `tag(format!(\"user:{id}\"))`, any `Display` value",
        ),
        (Some(_), Some(second)) => {
            cx.spanned(&second, "`tag` takes one tag: write `tag(a), tag(b)`")
        }
    }
    Ok(())
}

/// A target written without its arguments: `profile` instead of `profile(id)`, or a
/// misspelled flag.
fn not_called(path: &ExprPath, cx: &mut Errors) {
    let shown = path.to_token_stream().to_string().replace(' ', "");
    let flag = path
        .path
        .get_ident()
        .map(Ident::to_string)
        .and_then(|name| crate::spelling::closest(&name, ["before", "always"]));
    let message = match flag {
        Some(flag) => format!("unknown flag `{shown}` (did you mean `{flag}`?); {EXPECTED}"),
        None if shown == "all" => {
            "`all` needs the cached function's name: `all(f)` drops every entry of `f`".to_owned()
        }
        None if shown == "tag" => {
            "`tag` needs the tag: `tag(format!(\"user:{id}\"))`, any `Display` value".to_owned()
        }
        None => format!(
            "a target is a call: write `{shown}(..)` with the key's arguments (those of \
             `invalidate_{}`), or `all({shown})` to drop every entry",
            path.path
                .segments
                .last()
                .map_or_else(String::new, |s| s.ident.to_string())
        ),
    };
    cx.spanned(path, message);
}

#[cfg(test)]
mod tests {
    use super::{List, Target};
    use crate::ctxt::Errors;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> (List, usize) {
        let mut cx = Errors::default();
        let list = List::parse(tokens, &mut cx);
        let errors = cx.into_error().map_or(0, |e| e.into_iter().count());
        (list, errors)
    }

    #[test]
    fn every_form_parses() {
        let (list, errors) = parse(quote!(
            profile(id),
            crate::pages::page(id, &lang),
            Self::by_owner(self.owner),
            self.scoped(id),
            all(user_list, Self::counts),
            tag(format!("user:{id}")),
            self::tag(id),
            before,
            always,
        ));
        assert_eq!(errors, 0);
        assert!(list.before.is_some() && list.always.is_some());
        let kinds: Vec<&str> = list
            .targets
            .iter()
            .map(|t| match t {
                Target::Entry { .. } => "entry",
                Target::Method { .. } => "method",
                Target::All { .. } => "all",
                Target::Tag { .. } => "tag",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "entry", "entry", "entry", "method", "all", "all", "tag", "entry"
            ]
        );
    }

    #[test]
    fn mistakes_are_collected() {
        let (list, errors) = parse(quote!(
            profile,
            alwas,
            before = true,
            before,
            all(),
            all(f(x)),
            tag(),
            tag(a, b),
            self.scoped
        ));
        assert_eq!(errors, 9);
        assert!(list.targets.is_empty());
        let (_, errors) = parse(quote!(profile(id) 7));
        assert_eq!(errors, 1, "a syntax error ends the parse");
    }
}
