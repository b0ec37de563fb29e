//! The cached function as the macro understands it: free function or method, sync or
//! async, what it returns, and which parameters make its key.
//!
//! Building the model cannot fail: it records what it sees (a parameter that is a pattern,
//! a missing return type) and `validate` decides what is an error. Everything keeps a
//! reference to the user's syn node, so errors and generated tokens keep their spans.

use crate::args::Args;
use crate::names::names_in;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use std::collections::BTreeSet;
use syn::ext::IdentExt;
use syn::visit::{self, Visit};
use syn::{
    FnArg, Ident, Item, ItemFn, Lifetime, Pat, PatIdent, PatType, Receiver, ReturnType,
    TraitItemFn, Type,
};

/// Parses the item under `#[attribute]`: a function with a body, or an error on whatever
/// else it is (`why_a_body`: what the attribute needs the body for).
pub fn parse_item(tokens: TokenStream, attribute: &str, why_a_body: &str) -> syn::Result<ItemFn> {
    let not_a_function = format!("#[{attribute}] goes on a function");
    match syn::parse2::<Item>(tokens.clone()) {
        Ok(Item::Fn(item)) => Ok(item),
        Ok(Item::Verbatim(_)) | Err(_) => match syn::parse2::<TraitItemFn>(tokens) {
            Ok(decl) if decl.default.is_none() => Err(syn::Error::new_spanned(
                &decl.sig,
                format!("#[{attribute}] needs the function's body: {why_a_body}"),
            )),
            _ => Err(syn::Error::new(Span::call_site(), not_a_function)),
        },
        Ok(other) => Err(syn::Error::new_spanned(item_head(&other), not_a_function)),
    }
}

/// The tokens naming an item (`struct S`), so that an error does not underline a whole body.
fn item_head(item: &Item) -> TokenStream {
    match item {
        Item::Struct(i) => head(&i.struct_token, &i.ident),
        Item::Enum(i) => head(&i.enum_token, &i.ident),
        Item::Union(i) => head(&i.union_token, &i.ident),
        Item::Static(i) => head(&i.static_token, &i.ident),
        Item::Const(i) => head(&i.const_token, &i.ident),
        Item::Mod(i) => head(&i.mod_token, &i.ident),
        Item::Trait(i) => head(&i.trait_token, &i.ident),
        Item::Type(i) => head(&i.type_token, &i.ident),
        Item::Impl(i) => head(&i.impl_token, &i.self_ty),
        other => other.to_token_stream(),
    }
}

fn head(keyword: &impl ToTokens, name: &impl ToTokens) -> TokenStream {
    quote!(#keyword #name)
}

/// What the return type means for storage.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ReturnKind {
    /// The whole value is stored.
    Plain,
    /// A `Result`: only `Ok` is stored, unless `cache_errors`.
    Result,
}

/// One non-receiver parameter.
pub struct Param<'a> {
    pub arg: &'a PatType,
    /// The name, when the parameter is a plain (possibly `mut`) binding.
    pub ident: Option<&'a Ident>,
    pub ty: &'a Type,
    /// Whether the type is syntactically a reference `&T`: the default key then uses the
    /// parameter as it is, not `&param`.
    pub is_ref: bool,
}

/// Where the function is, as far as the macro knows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// At module level, or so it looks: no receiver, no `Self`.
    Free,
    /// In an `impl` block or a trait: it has a receiver or names `Self`.
    Impl,
    /// In an inherent `impl`, said `#[memocache::cached_impl]`: not in a trait, so the
    /// helpers need no `where Self: Sized` (which `impl dyn Trait` could not meet).
    Inherent,
    /// In a trait `impl`, said `#[memocache::cached_impl]`: the function stays there, its
    /// worker and helpers go to an inherent `impl` of the type.
    TraitImpl,
}

pub struct Function<'a> {
    pub item: &'a ItemFn,
    pub place: Place,
    /// Tells this `#[cached]` use apart from every other in the module (a hash of its
    /// tokens), for the per-`Self` caches of functions in `impl` blocks.
    pub id: u64,
    pub receiver: Option<&'a Receiver>,
    pub params: Vec<Param<'a>>,
    /// `None` when the function returns `()`, written or not.
    pub output: Option<&'a Type>,
    pub kind: ReturnKind,
    /// The helpers become associated functions, called through `Self::`.
    pub in_impl: bool,
    /// The names `key = ...` may read; `None` for the default key (every parameter).
    key_names: Option<BTreeSet<String>>,
}

impl<'a> Function<'a> {
    /// The model of `item`; `known` is what `#[memocache::cached_impl]` says of the place,
    /// if it is there.
    pub fn new(item: &'a ItemFn, args: &Args, known: Option<Place>, id: u64) -> Function<'a> {
        let sig = &item.sig;
        let mut receiver = None;
        let mut params = Vec::new();
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(r) => receiver = Some(r),
                FnArg::Typed(arg) => params.push(Param::new(arg)),
            }
        }
        let output = match &sig.output {
            ReturnType::Type(_, ty) if !is_unit(ty) => Some(&**ty),
            _ => None,
        };
        let kind = match output {
            Some(ty) if is_result(ty) => ReturnKind::Result,
            _ => ReturnKind::Plain,
        };
        let in_impl = known.is_some_and(|p| p != Place::Free) || receiver.is_some() || {
            let mut finder = SelfTypeFinder(false);
            finder.visit_signature(sig);
            finder.visit_block(&item.block);
            let option_exprs = (args.key.value.iter())
                .chain(&args.unless.value)
                .chain(args.tags.value.iter().flatten());
            for expr in option_exprs {
                finder.visit_expr(expr);
            }
            finder.0
        };
        let key_names = args.key.value.as_ref().map(|key| {
            let mut names = BTreeSet::new();
            names.extend(names_in(key.to_token_stream()));
            names
        });
        let place = match known {
            Some(place) => place,
            None if in_impl => Place::Impl,
            None => Place::Free,
        };
        Function {
            item,
            place,
            id,
            receiver,
            params,
            output,
            kind,
            in_impl,
            key_names,
        }
    }

    pub fn is_async(&self) -> bool {
        self.item.sig.asyncness.is_some()
    }

    /// The parameters `invalidate_f` takes: those the key reads, in declaration order.
    pub fn key_params(&self) -> impl Iterator<Item = &Param<'a>> {
        self.params
            .iter()
            .filter(|p| match (&self.key_names, p.ident) {
                (None, _) => true,
                (Some(names), Some(ident)) => names.contains(&ident.unraw().to_string()),
                (Some(_), None) => false,
            })
    }

    /// Whether the body may read the parameter: one that only the key reads is "used" by a
    /// `let _ = &name;` in the worker, so that it is not reported unused.
    pub fn body_reads(&self, p: &Param) -> bool {
        let Some(ident) = p.ident else {
            return true;
        };
        let mut names = BTreeSet::new();
        names.extend(names_in(self.item.block.to_token_stream()));
        names.contains(&ident.unraw().to_string())
    }

    /// Whether `key = ...` reads `self`: `invalidate_f` then takes the receiver.
    pub fn key_uses_self(&self) -> bool {
        self.key_names
            .as_ref()
            .is_some_and(|names| names.contains("self"))
    }
}

impl<'a> Param<'a> {
    fn new(arg: &'a PatType) -> Param<'a> {
        let ident = match &*arg.pat {
            Pat::Ident(PatIdent {
                by_ref: None,
                subpat: None,
                ident,
                ..
            }) => Some(ident),
            _ => None,
        };
        Param {
            arg,
            ident,
            ty: &arg.ty,
            is_ref: matches!(peel(&arg.ty), Type::Reference(_)),
        }
    }
}

/// Looks through parentheses and the invisible groups of `macro_rules!` expansions.
pub fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => peel(&g.elem),
        Type::Paren(p) => peel(&p.elem),
        other => other,
    }
}

pub fn is_unit(ty: &Type) -> bool {
    matches!(peel(ty), Type::Tuple(t) if t.elems.is_empty())
}

/// `Result`, `io::Result`, `std::result::Result`, `anyhow::Result`...: any path whose last
/// segment is `Result`. An alias named otherwise is a plain value (use `cache_errors` off
/// and an `unless` if that matters).
pub fn is_result(ty: &Type) -> bool {
    match peel(ty) {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Result"),
        _ => false,
    }
}

/// Finds the type `Self` in a signature or body, skipping nested items (their `Self` is
/// their own) but looking inside macro calls, whose tokens syn does not parse.
struct SelfTypeFinder(bool);

impl Visit<'_> for SelfTypeFinder {
    fn visit_ident(&mut self, ident: &Ident) {
        if ident == "Self" {
            self.0 = true;
        }
    }
    fn visit_item(&mut self, _: &Item) {}
    fn visit_macro(&mut self, mac: &syn::Macro) {
        visit::visit_macro(self, mac);
        if tokens_mention(mac.tokens.clone(), "Self") {
            self.0 = true;
        }
    }
}

fn tokens_mention(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == name,
        TokenTree::Group(g) => tokens_mention(g.stream(), name),
        _ => false,
    })
}

/// Adds the lifetimes that `ty` names to `out`.
pub fn lifetimes_in(ty: &Type, out: &mut BTreeSet<String>) {
    struct Collect<'o>(&'o mut BTreeSet<String>);
    impl Visit<'_> for Collect<'_> {
        fn visit_lifetime(&mut self, l: &Lifetime) {
            self.0.insert(l.ident.to_string());
        }
    }
    Collect(out).visit_type(ty);
}
