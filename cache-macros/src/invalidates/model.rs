//! The function under `#[invalidates]` as the macro understands it (sync or async, what it
//! returns, its parameters' names), and each target argument's evaluation: before the body,
//! as a copy, or after it, reading `result`.
//!
//! Building the model cannot fail; `validate` decides what is an error.

use crate::model::{is_result, is_unit};
use crate::names::{count_names, first_read};
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet};
use syn::ext::IdentExt;
use syn::visit::Visit;
use syn::{
    Expr, ExprReference, FnArg, Ident, ItemFn, Pat, PatIdent, ReturnType, Type, TypeImplTrait,
};

/// The name a target reads the function's return value by.
pub const RESULT: &str = "result";

/// What the function returns, for when the invalidations run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// A `Result` (any path ending in `Result`): on `Ok`, or always with `always`.
    Result,
    /// Anything else, `()` included: after every return.
    Plain,
}

pub struct Function<'a> {
    pub item: &'a ItemFn,
    pub returns: Returns,
    /// The written return type, unless it is `()`.
    pub output: Option<&'a Type>,
    /// The return type names `impl Trait`: the body's block cannot be given it as a type.
    pub output_is_opaque: bool,
    /// The names of the parameters that are plain bindings.
    pub params: BTreeSet<String>,
    /// A parameter named `result`, which targets reading `result` would make ambiguous.
    pub result_param: Option<&'a Ident>,
    /// How many times the body may read each name (a superset: every identifier that is not
    /// a field, a method or a path's continuation).
    pub body_reads: BTreeMap<String, usize>,
}

impl<'a> Function<'a> {
    pub fn new(item: &'a ItemFn) -> Function<'a> {
        let mut params = BTreeSet::new();
        let mut result_param = None;
        for input in &item.sig.inputs {
            if let FnArg::Typed(arg) = input
                && let Pat::Ident(PatIdent {
                    ident,
                    subpat: None,
                    ..
                }) = &*arg.pat
            {
                let name = ident.unraw().to_string();
                if name == RESULT {
                    result_param = Some(ident);
                }
                params.insert(name);
            }
        }
        let output = match &item.sig.output {
            ReturnType::Type(_, ty) if !is_unit(ty) => Some(&**ty),
            _ => None,
        };
        let returns = match output {
            Some(ty) if is_result(ty) => Returns::Result,
            _ => Returns::Plain,
        };
        let output_is_opaque = output.is_some_and(|ty| {
            struct Find(bool);
            impl Visit<'_> for Find {
                fn visit_type_impl_trait(&mut self, _: &TypeImplTrait) {
                    self.0 = true;
                }
            }
            let mut find = Find(false);
            find.visit_type(ty);
            find.0
        });
        let mut body_reads = BTreeMap::new();
        names_read(item.block.to_token_stream(), &mut body_reads);
        Function {
            item,
            returns,
            output,
            output_is_opaque,
            params,
            result_param,
            body_reads,
        }
    }

    pub fn is_async(&self) -> bool {
        self.item.sig.asyncness.is_some()
    }
}

/// How one argument of a target is evaluated.
pub enum Arg<'a> {
    /// It reads `result`: evaluated after the body, as written.
    After(&'a Expr),
    /// `&expr`: an owned copy of `expr` taken before the body, passed as `&copy`.
    Copied {
        whole: &'a Expr,
        reference: &'a ExprReference,
    },
    /// A parameter named alone: moved into the local if nothing else reads it (the body,
    /// another argument), else cloned (a copy for numbers and references).
    Param {
        whole: &'a Expr,
        ident: &'a Ident,
        moved: bool,
    },
    /// Anything else: evaluated before the body, as written.
    Value(&'a Expr),
}

impl<'a> Arg<'a> {
    /// `reads` counts the names that every target argument reads, this one included.
    pub fn new(expr: &'a Expr, func: &Function, reads: &BTreeMap<String, usize>) -> Arg<'a> {
        if reads_result(expr) {
            return Arg::After(expr);
        }
        match peel_expr(expr) {
            Expr::Reference(reference) if reference.mutability.is_none() => Arg::Copied {
                whole: expr,
                reference,
            },
            Expr::Path(p)
                if p.qself.is_none()
                    && p.path
                        .get_ident()
                        .is_some_and(|i| func.params.contains(&i.unraw().to_string())) =>
            {
                match p.path.get_ident() {
                    Some(ident) => {
                        let name = ident.unraw().to_string();
                        let elsewhere = func.body_reads.get(&name).copied().unwrap_or(0)
                            + reads.get(&name).copied().unwrap_or(0).saturating_sub(1);
                        Arg::Param {
                            whole: expr,
                            ident,
                            moved: elsewhere == 0,
                        }
                    }
                    None => Arg::Value(expr),
                }
            }
            _ => Arg::Value(expr),
        }
    }

    /// Evaluated before the body, into a local of its own.
    pub fn is_before(&self) -> bool {
        !matches!(self, Arg::After(_))
    }

    /// The argument as the user wrote it.
    pub fn written(&self) -> &'a Expr {
        match self {
            Arg::After(e) | Arg::Value(e) => e,
            Arg::Copied { whole, .. } | Arg::Param { whole, .. } => whole,
        }
    }
}

/// Looks through parentheses and the invisible groups of `macro_rules!` expansions.
fn peel_expr(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => peel_expr(&g.expr),
        Expr::Paren(p) => peel_expr(&p.expr),
        other => other,
    }
}

/// Whether an expression reads `result`: the identifier, not as a field, method or path
/// continuation (`a.result`, `a::result`), or a format string's capture (`"{result}"`).
pub fn reads_result(expr: &Expr) -> bool {
    first_result(expr.to_token_stream()).is_some()
}

/// Counts the names `tokens` may read, as [`reads_result`] finds `result`.
pub fn names_read(tokens: TokenStream, out: &mut BTreeMap<String, usize>) {
    count_names(tokens, out);
}

/// Where an expression first reads `result`, for errors.
pub fn first_result(tokens: TokenStream) -> Option<Span> {
    first_read(tokens, RESULT)
}

#[cfg(test)]
mod tests {
    use super::{names_read, reads_result};
    use quote::quote;
    use std::collections::BTreeMap;
    use syn::parse_quote;

    #[test]
    fn names_are_counted_where_they_may_be_read() {
        let mut reads = BTreeMap::new();
        names_read(
            quote!(db.save(&name, id); let n = name.len(); format!("{id}{n:?}{{x}}"); user.id; m::id),
            &mut reads,
        );
        let count = |n: &str| reads.get(n).copied().unwrap_or(0);
        assert_eq!(count("name"), 2);
        assert_eq!(
            count("id"),
            2,
            "the argument and the capture, not `user.id` or `m::id`"
        );
        assert_eq!(count("db"), 1);
        assert_eq!(count("save"), 0);
        assert_eq!(count("x"), 0);
    }

    #[test]
    fn result_is_found_where_it_is_read() {
        assert!(reads_result(&parse_quote!(result.id)));
        assert!(reads_result(&parse_quote!(*result)));
        assert!(reads_result(&parse_quote!(format!("order:{}", result.id))));
        assert!(reads_result(&parse_quote!(format!("order:{result}"))));
        assert!(reads_result(&parse_quote!(format!("order:{result:?}"))));
        assert!(!reads_result(&parse_quote!(order.result)));
        assert!(!reads_result(&parse_quote!(order.result())));
        assert!(!reads_result(&parse_quote!(outcome::result)));
        assert!(!reads_result(&parse_quote!(format!("{{result}}"))));
        assert!(!reads_result(&parse_quote!(id)));
    }
}
