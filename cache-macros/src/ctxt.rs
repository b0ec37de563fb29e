//! Collects every error of one `#[cached]` use, so they are reported together.

use proc_macro2::Span;
use quote::ToTokens;
use std::fmt::Display;

/// The errors found so far, combined into one `syn::Error` (which holds many).
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// An error on `tokens`: the message underlines all of them.
    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// An error on one span, such as a keyword's.
    pub fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub fn into_error(self) -> Option<syn::Error> {
        self.0
    }
}
