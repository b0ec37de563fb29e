//! The worker (the user's function under a hidden name, which holds the body) and how the
//! generated items call it.

use super::Gen;
use crate::attrs::{Generated, allows};
use crate::signature::{forwarded, sibling};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::Ident;

impl Gen<'_, '_> {
    /// The user's function under a hidden name: the body, exactly as written, in a
    /// function of its own, so that `return`, `?` and the parameters' `mut` mean what they
    /// meant, and the body is compiled once for the cached function and `refresh_f`.
    pub(super) fn worker(&self) -> TokenStream {
        let shared = &self.shared_attrs;
        let allows = allows(Generated::Worker);
        let sig = &self.func.item.sig;
        let (asyncness, unsafety, worker) = (&sig.asyncness, &sig.unsafety, &self.worker);
        let generics = &sig.generics;
        let where_clause = &sig.generics.where_clause;
        let receiver = self.func.receiver.map(|r| quote!(#r,));
        // A parameter the body does not seem to read (only the key does) is "used" by a
        // `let _`: if the guess is wrong, the body still compiles.
        let mut unread = Vec::new();
        let params: Vec<TokenStream> = (self.func.params.iter())
            .map(|p| match p.ident {
                Some(ident) if !self.func.body_reads(p) => {
                    let (attrs, ty) = (&p.arg.attrs, &p.arg.ty);
                    let name = forwarded(ident);
                    unread.push(quote!(let _ = &#name;));
                    quote!(#(#attrs)* #ident: #ty)
                }
                _ => p.arg.to_token_stream(),
            })
            .collect();
        let inputs = quote!(#receiver #(#params),*);
        let output = &sig.output;
        let body = &self.func.item.block;
        let block = if unread.is_empty() {
            body.to_token_stream()
        } else {
            let stmts = &body.stmts;
            let mut group = proc_macro2::Group::new(
                proc_macro2::Delimiter::Brace,
                quote!(#(#unread)* #(#stmts)*),
            );
            group.set_span(body.brace_token.span.join());
            group.into_token_stream()
        };
        quote! {
            #(#shared)*
            #allows
            #asyncness #unsafety fn #worker #generics (#inputs) #output
            #where_clause
            #block
        }
    }

    /// `worker(self, a, b)`, through `Self::` in an impl, in `unsafe` as the function
    /// is; not awaited.
    pub(super) fn call_worker(&self) -> TokenStream {
        let worker = sibling(&self.worker);
        let path = if self.func.in_impl {
            quote!(Self::#worker)
        } else {
            quote!(#worker)
        };
        let receiver = self.func.receiver.map(|r| {
            let this = &r.self_token;
            quote!(#this,)
        });
        let args = self
            .func
            .params
            .iter()
            .filter_map(|p| p.ident.map(forwarded));
        let call = quote!(#path(#receiver #(#args),*));
        if self.func.item.sig.unsafety.is_some() {
            quote!(unsafe { #call })
        } else {
            call
        }
    }

    /// What `run` takes: the arguments as one tuple, and the worker as a function pointer
    /// of the same arity, `(self, a, b)` and `Self::worker` (see the runtime's
    /// `call/args.rs`). An `unsafe` function's worker (which a safe pointer cannot point
    /// to), or one of more than [`MAX_ARGS`] arguments, is called by a non-capturing
    /// closure of one tuple instead: `((a, b),)` and `|(a, b)| unsafe { worker(a, b) }`.
    pub(super) fn worker_with_args(&self) -> (TokenStream, TokenStream) {
        let worker = sibling(&self.worker);
        let path = if self.func.in_impl {
            quote!(Self::#worker)
        } else {
            quote!(#worker)
        };
        let receiver = self.func.receiver.map(|r| &r.self_token);
        let args: Vec<Ident> = (self.func.params.iter())
            .filter_map(|p| p.ident.map(forwarded))
            .collect();
        let arity = args.len() + usize::from(receiver.is_some());
        let unsafety = self.func.item.sig.unsafety.is_some();
        if !unsafety && arity <= MAX_ARGS {
            let passed = receiver.map(|t| quote!(#t,));
            return (quote!((#passed #(#args,)*)), path);
        }
        let this = Ident::new("__memocache_self", Span::mixed_site());
        let (bound, passed) = match receiver {
            Some(token) => (Some(quote!(#this,)), Some(quote!(#token,))),
            None => (None, None),
        };
        let call = quote!(#path(#bound #(#args),*));
        let call = if unsafety {
            quote!(unsafe { #call })
        } else {
            call
        };
        (
            quote!(((#passed #(#args,)*),)),
            quote!(|(#bound #(#args,)*)| #call),
        )
    }
}

/// The most arguments (the receiver counted) whose tuple the runtime's `Args` takes.
const MAX_ARGS: usize = 12;
