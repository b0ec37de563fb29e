//! Turns a validated `#[invalidates(...)]` into the function: the targets' arguments, the
//! body, then the targets. Cannot fail.
//!
//! Input:
//! ```text
//! #[invalidates(profile(id), by_name(&name), all(user_list), tag(format!("user:{id}")))]
//! fn rename(id: u64, name: String) -> Result<(), DbError> { BODY }
//! ```
//! Output (`P` is `::memocache::__private`):
//! ```text
//! fn rename(id: u64, name: String) -> Result<(), DbError> {
//!     let arg1 = P::owned(&id);                  // a parameter alone that the body reads: cloned
//!     let arg2 = P::owned(&name);                // `&expr`: an owned copy, passed as `&copy`
//!     let arg3 = format!("user:{id}");           // anything else: as written
//!     let out = P::run_body(|| -> Result<(), DbError> BODY);
//!     if let Ok(_) = &out {
//!         P::Landed::landed(invalidate_profile((|| arg1)()));
//!         P::Landed::landed(invalidate_by_name((|| &arg2)()));
//!         P::Landed::landed(invalidate_all_user_list());
//!         P::invalidate_tag_of((|| arg3)());
//!     }
//!     out
//! }
//! ```
//! The body keeps its meaning in the closure (`return` and `?` leave it, with the
//! function's return type); an `async fn` runs it as `async { BODY }.await` and awaits each
//! target through `P::Target(call).__memocache_settle().await`, which awaits a future (an
//! `async` helper) and takes a sync helper's answer as it is. `before` runs the same calls
//! before the body, on clones of the arguments. A target reading `result` gets its
//! arguments as written, after the body, with `result` bound to the (`Ok`) value.
//!
//! Spans: each call is made of the user's tokens (the helper's name spanned at the target's
//! name, the parentheses at the target's), and each argument taken before the body is passed
//! as `(|| local)()` spanned from the argument's first token to its last, so that rustc's
//! "cannot find function", "takes 1 argument" and "mismatched types" (with its "consider
//! borrowing" help) land on the target as written.

use super::args::{List, Target};
use super::model::{Arg, Function, RESULT, Returns, names_read};
use crate::signature::HelperNames;
use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use std::collections::BTreeMap;
use syn::spanned::Spanned;
use syn::{Expr, ExprPath, Ident};

pub fn expand(func: &Function, list: &List) -> TokenStream {
    let planned = plan(func, list);
    let lets = planned
        .iter()
        .flat_map(|p| &p.args)
        .filter_map(Planned::let_stmt);
    let out = Ident::new("__memocache_out", Span::mixed_site());
    let before = if list.before.is_some() {
        let runs: Vec<&Plan> = planned.iter().filter(|p| p.runs_before()).collect();
        Some(block(func, &runs, When::Before))
    } else {
        None
    };
    let body = body(func);
    let after = after(func, list, &planned, &out);
    let attrs = &func.item.attrs;
    let vis = &func.item.vis;
    let sig = &func.item.sig;
    quote! {
        #(#attrs)*
        #vis #sig {
            #(#lets)*
            #before
            let #out = #body;
            #after
            #out
        }
    }
}

/// One target with the evaluation of each of its arguments.
struct Plan<'a> {
    target: &'a Target,
    args: Vec<Planned<'a>>,
}

struct Planned<'a> {
    arg: Arg<'a>,
    /// The local that holds the argument from before the body; `None` for `Arg::After`.
    local: Option<Ident>,
}

impl Plan<'_> {
    /// Whether `before` runs it: not when it reads `result`.
    fn runs_before(&self) -> bool {
        self.args.iter().all(|a| a.arg.is_before())
    }

    fn reads_result(&self) -> bool {
        !self.runs_before()
    }
}

fn plan<'a>(func: &Function, list: &'a List) -> Vec<Plan<'a>> {
    let mut reads = BTreeMap::new();
    for expr in list.targets.iter().flat_map(Target::args) {
        names_read(expr.to_token_stream(), &mut reads);
    }
    let mut n = 0;
    list.targets
        .iter()
        .map(|target| Plan {
            target,
            args: target
                .args()
                .iter()
                .map(|expr| {
                    let arg = Arg::new(expr, func, &reads);
                    let local = arg.is_before().then(|| {
                        n += 1;
                        Ident::new(&format!("__memocache_arg{n}"), Span::mixed_site())
                    });
                    Planned { arg, local }
                })
                .collect(),
        })
        .collect()
}

impl Planned<'_> {
    /// `let local = ..;`, evaluated before the body.
    fn let_stmt(&self) -> Option<TokenStream> {
        let local = self.local.as_ref()?;
        let value = match &self.arg {
            Arg::After(_) => return None,
            Arg::Copied { reference, .. } => {
                quote!(::memocache::__private::owned(#reference))
            }
            Arg::Param {
                ident, moved: true, ..
            } => ident.to_token_stream(),
            Arg::Param { ident, .. } => {
                // `&` spanned at the parameter, so that an error on the copy points there.
                let and = quote_spanned!(ident.span()=> &);
                quote!(::memocache::__private::owned(#and #ident))
            }
            Arg::Value(expr) => expr.to_token_stream(),
        };
        Some(quote!(let #local = #value;))
    }

    /// The argument where the call passes it.
    fn passed(&self, when: When) -> TokenStream {
        let Some(local) = &self.local else {
            return self.arg.written().to_token_stream();
        };
        let value = match (&self.arg, when) {
            (Arg::Copied { .. }, _) => quote!(&#local),
            // `before` runs first: the call after the body gets the local itself.
            (_, When::Before) => quote!(::core::clone::Clone::clone(&#local)),
            (_, When::After) => quote!(#local),
        };
        spanned_like(self.arg.written(), value)
    }
}

/// `(|| value)()`, its first parentheses spanned at `written`'s first token and its last at
/// the last token, so that rustc underlines the argument as written, and its "consider
/// borrowing" help applies to it. (A lone token cannot span several; and rustc blames the
/// argument of a generic function such as `identity(value)` instead of the call, which is
/// the macro's.)
fn spanned_like(written: &Expr, value: TokenStream) -> TokenStream {
    let tokens: Vec<_> = written.to_token_stream().into_iter().collect();
    let first = tokens.first().map_or_else(Span::call_site, |t| t.span());
    let last = tokens.last().map_or(first, |t| t.span());
    let closure = parens(quote!(|| #value), first);
    let call = parens(TokenStream::new(), last);
    quote!(#closure #call)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum When {
    Before,
    After,
}

/// The body, run where its `return` and `?` leave it with the function's return type.
fn body(func: &Function) -> TokenStream {
    let block = &func.item.block;
    let typed = func.output.filter(|_| !func.output_is_opaque);
    if func.is_async() {
        // An `async` block cannot name its output type: an unreachable `return` of one
        // tells rustc, as `#[tracing::instrument]` does.
        let fake = typed.map(|ty| {
            let fake = Ident::new("__memocache_fake_return", Span::mixed_site());
            quote_spanned! {ty.span()=>
                #[allow(
                    unreachable_code,
                    clippy::diverging_sub_expression,
                    clippy::empty_loop,
                    clippy::let_unit_value,
                    clippy::unreachable
                )]
                if false {
                    let #fake: #ty = loop {};
                    return #fake;
                }
            }
        });
        // The statements, not the block: `async { fake; { block } }` would be braces
        // around the tail, which rustc reports as unused.
        let stmts = &block.stmts;
        quote!(async { #fake #(#stmts)* }.await)
    } else {
        let arrow = typed.map(|ty| quote!(-> #ty));
        quote!(::memocache::__private::run_body(|| #arrow #block))
    }
}

/// The targets that run once the body has returned: on `Ok` for a `Result` (always, with
/// `always`), after every return otherwise.
fn after(func: &Function, list: &List, planned: &[Plan], out: &Ident) -> TokenStream {
    let runs: Vec<&Plan> = planned.iter().collect();
    let calls = block(func, &runs, When::After);
    let reads = planned.iter().any(Plan::reads_result);
    let result = Ident::new(RESULT, Span::call_site());
    if func.returns == Returns::Result && list.always.is_none() {
        let span = func.output.map_or_else(Span::call_site, Spanned::span);
        let ok = quote_spanned!(span=> ::core::result::Result::Ok);
        let binding = if reads { quote!(#result) } else { quote!(_) };
        quote! {
            if let #ok(#binding) = &#out #calls
        }
    } else if reads {
        quote! {
            {
                let #result = &#out;
                #calls
            }
        }
    } else {
        calls
    }
}

/// `{ call; call; ... }`, each call run as the function's asyncness allows.
fn block(func: &Function, runs: &[&Plan], when: When) -> TokenStream {
    let helpers = runs.iter().any(|p| !matches!(p.target, Target::Tag { .. }));
    let settle = (func.is_async() && helpers).then(|| {
        quote!(
            use ::memocache::__private::{AwaitTarget as _, ReadyTarget as _};
        )
    });
    let calls = runs.iter().map(|p| run(func, p, when));
    quote!({
        #settle
        #(#calls)*
    })
}

/// One target's call, as a statement.
fn run(func: &Function, plan: &Plan, when: When) -> TokenStream {
    let args: Vec<TokenStream> = plan.args.iter().map(|a| a.passed(when)).collect();
    let call = match plan.target {
        Target::Tag { keyword, .. } => {
            let path = quote_spanned!(*keyword=> ::memocache::__private::invalidate_tag_of);
            return quote!(#path(#(#args),*););
        }
        Target::Entry { path, paren, .. } => {
            let path = helper_path(path, |names| names.invalidate);
            let group = parens(quote!(#(#args),*), paren.span.join());
            quote!(#path #group)
        }
        Target::Method {
            receiver,
            dot,
            method,
            paren,
            ..
        } => {
            let helper = HelperNames::of(method).invalidate;
            let group = parens(quote!(#(#args),*), paren.span.join());
            quote!(#receiver #dot #helper #group)
        }
        Target::All { path } => {
            let span = last_ident(path).map_or_else(Span::call_site, Ident::span);
            let path = helper_path(path, |names| names.invalidate_all);
            let group = parens(TokenStream::new(), span);
            quote!(#path #group)
        }
    };
    // Spanned at the target, so that rustc's note on the call points there too.
    let span = first_span(plan.target);
    if func.is_async() {
        let target = quote_spanned!(span=> ::memocache::__private::Target);
        let settle = Ident::new("__memocache_settle", Span::call_site());
        quote!(#target(#call).#settle().await;)
    } else {
        let landed = quote_spanned!(span=> ::memocache::__private::Landed::landed);
        quote!(#landed(#call);)
    }
}

/// The target's path with its last name made the helper's (`Self::f` -> `Self::invalidate_f`),
/// spanned at the user's name.
fn helper_path(path: &ExprPath, helper: impl Fn(HelperNames) -> Ident) -> TokenStream {
    let mut path = path.clone();
    // `self::tag(x)` names a cached function called like a keyword of the list; the
    // helper's name is no keyword, and `self::` on it would be an unused qualification.
    if path.qself.is_none()
        && path.path.leading_colon.is_none()
        && path.path.segments.len() == 2
        && path.path.segments[0].ident == "self"
    {
        let rest = path
            .path
            .segments
            .pop()
            .map(syn::punctuated::Pair::into_value);
        path.path.segments.clear();
        path.path.segments.extend(rest);
    }
    if let Some(last) = path.path.segments.last_mut() {
        last.ident = helper(HelperNames::of(&last.ident));
    }
    path.to_token_stream()
}

fn last_ident(path: &ExprPath) -> Option<&Ident> {
    path.path.segments.last().map(|s| &s.ident)
}

fn parens(inner: TokenStream, span: Span) -> Group {
    let mut group = Group::new(Delimiter::Parenthesis, inner);
    group.set_span(span);
    group
}

fn first_span(target: &Target) -> Span {
    target
        .tokens()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}
