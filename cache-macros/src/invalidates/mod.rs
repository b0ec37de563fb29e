//! `#[invalidates(...)]`, on the functions that change the data: after the body returns, the
//! listed targets' entries are dropped (`invalidate_f(..)`, `invalidate_all_f()`,
//! `invalidate_tag(..)`), before the function returns to its caller.
//!
//! The same pipeline as `#[cached]`, one file per phase: `args` parses the list, `model`
//! reads the function and how each argument is evaluated, `validate` reports every mistake
//! at once, `expand` writes the function (and cannot fail). On errors the function is
//! emitted unchanged next to them, so one mistake in the list is one message.
//!
//! Whether a target exists and takes these arguments is left to rustc, on a call made of the
//! user's tokens: the macro cannot see the cached functions, and rustc's own errors
//! ("cannot find function `invalidate_f`", "takes 1 argument but 2 were supplied",
//! "mismatched types") then point at the target.

mod args;
mod expand;
mod model;
mod validate;

use crate::ctxt::Errors;
use proc_macro2::TokenStream;

pub fn invalidates_impl(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Errors::default();
    let list = args::List::parse(attr, &mut cx);
    let item_fn = match crate::model::parse_item(
        item.clone(),
        "invalidates",
        "it runs the invalidations after it",
    ) {
        Ok(item_fn) => item_fn,
        Err(e) => {
            cx.push(e);
            return with_errors(cx.into_error(), item);
        }
    };
    let func = model::Function::new(&item_fn);
    validate::check(&func, &list, &mut cx);
    match cx.into_error() {
        None => expand::expand(&func, &list),
        error => with_errors(error, item),
    }
}

/// The errors and the item as it was: a mistake in the list does not also break every
/// call of the function. A parameter only the targets read is unused there: that is not
/// a second mistake to report.
fn with_errors(error: Option<syn::Error>, item: TokenStream) -> TokenStream {
    let error = error.map(|e| e.to_compile_error());
    quote::quote! {
        #error
        #[allow(unused_variables)]
        #item
    }
}

#[cfg(test)]
mod tests {
    use super::invalidates_impl;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn errors(out: &TokenStream) -> usize {
        out.to_string().matches("compile_error").count()
    }

    #[test]
    fn the_function_runs_its_body_then_its_targets() {
        let out = invalidates_impl(
            quote!(
                profile(id),
                by_name(&name),
                all(user_list),
                tag(format!("user:{id}"))
            ),
            quote! {
                /// Docs.
                pub fn rename(id: u64, name: String) -> Result<(), DbError> { todo!() }
            },
        );
        assert_eq!(errors(&out), 0, "{out}");
        let file: syn::File = syn::parse2(out.clone()).expect("the expansion parses");
        assert_eq!(file.items.len(), 1, "one function, no other item");
        let text = out.to_string();
        for part in [
            "__private :: owned (& id)",
            "__private :: owned (& name)",
            "invalidate_profile",
            "invalidate_by_name",
            "invalidate_all_user_list ()",
            "invalidate_tag_of",
            "Landed :: landed",
            ":: core :: result :: Result :: Ok (_)",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn an_async_function_awaits_its_targets() {
        let out = invalidates_impl(
            quote!(Self::profile(id), self.scoped(id), before),
            quote!(
                async fn save(&self, id: u64) {}
            ),
        );
        let text = out.to_string();
        assert_eq!(errors(&out), 0, "{text}");
        assert_eq!(text.matches("__memocache_settle () . await").count(), 4);
        assert!(text.contains("Self :: invalidate_profile"));
        assert!(text.contains("self . invalidate_scoped"));
    }

    #[test]
    fn mistakes_leave_the_function_as_it_was() {
        let item = quote!(
            fn save(id: u64) -> u64 {
                id
            }
        );
        let out = invalidates_impl(quote!(profile(id), profile(id), always), item.clone());
        assert_eq!(errors(&out), 2, "{out}");
        assert!(out.to_string().ends_with(&item.to_string()), "{out}");
        let out = invalidates_impl(quote!(), item);
        assert_eq!(errors(&out), 1);
        let out = invalidates_impl(
            quote!(profile(id)),
            quote!(
                struct S;
            ),
        );
        assert_eq!(errors(&out), 1);
    }
}
