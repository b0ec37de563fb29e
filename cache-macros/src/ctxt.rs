//! Collects every error of one `#[cached]` use, so they are reported together.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use std::fmt::Display;
use syn::Token;
use syn::parse::{ParseStream, Parser};

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

/// Parses an attribute's comma-separated list into `T::default()`, one entry at a time by
/// `entry` (given its place in the list, from 0). Every error goes to `cx`: those `entry`
/// reports and goes on after, and the syntax error that ends the parse.
pub fn parse_list<T: Default>(
    tokens: TokenStream,
    cx: &mut Errors,
    entry: fn(ParseStream, &mut T, usize, &mut Errors) -> syn::Result<()>,
) -> T {
    let mut list = T::default();
    let parser = |input: ParseStream| -> syn::Result<()> {
        let mut position = 0;
        while !input.is_empty() {
            entry(input, &mut list, position, cx)?;
            position += 1;
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(tokens) {
        cx.push(e);
    }
    list
}
