//! Attributes on the generated items: the user's, routed to where they apply, and the
//! lints the expansion allows.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Meta, Token};

/// The generated items, for [`allows`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    Worker,
    Invalidate,
    Helper,
}

/// Every lint the expansion allows, and on which item: the one place to look.
///
/// On the worker, only lints about the generated signature, never about the body: the user
/// keeps every warning their own code deserves. The helpers are the expansion's own code;
/// the user's words in them (a `key`, `tags`, `unless`) are also in the cached function,
/// which allows nothing, so that `clippy::pedantic` as a group is theirs to drop. (Each
/// attribute is short enough for rustfmt to keep on one line: the expansion is counted.)
pub fn allows(item: Generated) -> TokenStream {
    match item {
        // The worker is the user's function under a private name: lints that spare exported
        // functions would fire on it and not on what the user wrote (it takes the parameters
        // as the function does, by value or not, returns what it returns, is `async` when it
        // is). `dead_code`: it is only called from the function, which may be unused itself.
        Generated::Worker => quote! {
            #[allow(dead_code, clippy::too_many_arguments, clippy::unnecessary_wraps)]
            #[allow(clippy::needless_pass_by_value, clippy::trivially_copy_pass_by_ref)]
            #[allow(clippy::unused_async, clippy::ref_option, clippy::unused_self)]
        },
        // `key = ...` may mention a name that is not a read of a parameter (a field of
        // the same name in a struct literal, say); it is then taken and not used.
        Generated::Invalidate => quote!(#[allow(dead_code, unused_variables, clippy::pedantic)]),
        // Helpers the user does not call are not dead code they wrote; the helpers of an
        // `async fn` are `async` whether they await or not (`clippy::unused_async`), so that
        // a later move to a remote store changes no call site; they take the parameters as
        // the function does (`clippy::needless_pass_by_value`, ...); `invalidate_*`'s
        // answer may be ignored (`clippy::must_use_candidate`); the user documents errors
        // on the function (`clippy::missing_errors_doc`).
        Generated::Helper => quote!(#[allow(dead_code, clippy::pedantic)]),
    }
}

/// Splits the user's attributes: all of them go on the public function; `cfg`s and lint
/// levels also go on every generated item, so that a `cfg`'d-out function takes its
/// helpers with it and an `allow` reaches the body in the worker.
///
/// `expect` becomes `allow` everywhere: the lint it expects fires in one generated item
/// at most (the body is in the worker, the signature is on several), and an unmet
/// expectation on the others would be a warning the user cannot fix.
pub fn split_attrs(attrs: &[Attribute]) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let mut wrapper = Vec::new();
    let mut shared = Vec::new();
    for attr in attrs {
        let name = attr.path().get_ident().map(Ident::to_string);
        match name.as_deref() {
            Some("cfg") => {
                wrapper.push(attr.to_token_stream());
                shared.push(attr.to_token_stream());
            }
            Some("allow" | "warn" | "deny" | "forbid" | "expect") => {
                let attr = expect_to_allow(attr);
                wrapper.push(attr.clone());
                shared.push(attr);
            }
            Some("cfg_attr") => match lint_only_cfg_attr(attr) {
                Some(rewritten) => {
                    wrapper.push(rewritten.clone());
                    shared.push(rewritten);
                }
                // `cfg_attr(.., no_mangle)`, `cfg_attr(.., doc = ..)`...: the function's own.
                None => wrapper.push(attr.to_token_stream()),
            },
            _ => wrapper.push(attr.to_token_stream()),
        }
    }
    (wrapper, shared)
}

fn expect_to_allow(attr: &Attribute) -> TokenStream {
    match &attr.meta {
        Meta::List(list) if list.path.is_ident("expect") => {
            let allow = Ident::new("allow", list.path.span());
            let tokens = &list.tokens;
            let pound = &attr.pound_token;
            quote!(#pound[#allow(#tokens)])
        }
        _ => attr.to_token_stream(),
    }
}

/// `#[cfg_attr(pred, lint(..), ...)]` with only lint levels inside, `expect` made `allow`;
/// `None` if it holds anything else.
fn lint_only_cfg_attr(attr: &Attribute) -> Option<TokenStream> {
    let metas = attr
        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .ok()?;
    let mut metas = metas.into_iter();
    let predicate = metas.next()?;
    let mut inner = Vec::new();
    for meta in metas {
        let Meta::List(list) = meta else { return None };
        let name = list.path.get_ident()?.to_string();
        let level = match name.as_str() {
            "expect" => Ident::new("allow", list.path.span()),
            "allow" | "warn" | "deny" | "forbid" => list.path.get_ident()?.clone(),
            _ => return None,
        };
        let tokens = &list.tokens;
        inner.push(quote!(#level(#tokens)));
    }
    if inner.is_empty() {
        return None;
    }
    Some(quote!(#[cfg_attr(#predicate, #(#inner),*)]))
}

/// The user's attribute named `name` (`cached`, `memocache::cached`, ...), if there is one.
pub fn find<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs
        .iter()
        .find(|a| a.path().segments.last().is_some_and(|s| s.ident == name))
}

/// Why `#[cached]` and `#[invalidates]` cannot share a function.
pub const CACHED_AND_INVALIDATES: &str = "`#[cached]` and `#[invalidates]` cannot go on one \
    function: a hit skips the body, so its invalidations would run on misses only (or on every \
    call, hit or not, depending on the order of the attributes). Put `#[invalidates]` on the \
    function that writes the data, and `#[cached]` on the one that reads it";
