//! What `#[invalidates]` refuses, each error on the offending tokens; every error is
//! collected, so one compile shows them all.
//!
//! Whether a target exists, takes these arguments, and is sync or `async` is rustc's to
//! check, on the call the expansion makes with the user's spans (see `expand`).

use super::args::{List, Target};
use super::model::{Function, Returns, first_result, reads_result};
use crate::ctxt::Errors;
use proc_macro2::Span;
use quote::ToTokens;
use std::collections::BTreeSet;

pub fn check(func: &Function, list: &List, cx: &mut Errors) {
    check_function(func, cx);
    check_list(func, list, cx);
    if let Some(other) = crate::attrs::find(&func.item.attrs, "cached") {
        cx.spanned(other, crate::attrs::CACHED_AND_INVALIDATES);
    }
}

fn check_function(func: &Function, cx: &mut Errors) {
    let sig = &func.item.sig;
    if let Some(constness) = &sig.constness {
        cx.spanned(
            constness,
            "#[invalidates] cannot go on a `const fn`: invalidating a cache happens at run time",
        );
    }
}

fn check_list(func: &Function, list: &List, cx: &mut Errors) {
    if list.written == 0 {
        // On the flags if there are any, else on the attribute.
        let span = list.before.or(list.always).unwrap_or_else(Span::call_site);
        cx.at(
            span,
            "#[invalidates] lists nothing to invalidate: name the targets, such as \
             `#[invalidates(profile(id), all(user_list), tag(format!(\"user:{id}\")))]`",
        );
    }
    if let Some(always) = list.always
        && func.returns != Returns::Result
    {
        cx.at(
            always,
            "`always` only applies to a function returning `Result` (it runs the \
             invalidations on `Err` too): this function's run after every return already",
        );
    }
    repeated(list, cx);
    result_reads(func, list, cx);
}

/// The same target twice, or one entry of a function whose `all(..)` is listed too: the
/// later one is reported.
fn repeated(list: &List, cx: &mut Errors) {
    let mut seen = BTreeSet::new();
    let all_of: BTreeSet<String> = (list.targets.iter())
        .filter_map(|t| match t {
            Target::All { path } => Some(text(path)),
            _ => None,
        })
        .collect();
    for target in &list.targets {
        let (kind, shown) = match target {
            Target::Entry { .. } | Target::Method { .. } => ("", text(target.tokens())),
            Target::All { path } => ("all", text(path)),
            Target::Tag { expr, .. } => ("tag", text(expr)),
        };
        let key = format!("{kind}({shown})");
        if !seen.insert(key) {
            let written = if kind.is_empty() {
                shown
            } else {
                format!("{kind}({shown})")
            };
            cx.spanned(
                target.tokens(),
                format!("`{written}` is listed twice: keep one"),
            );
            continue;
        }
        if let Target::Entry { path, .. } = target
            && let Some(all) = all_of.get(&text(path))
        {
            cx.spanned(
                target.tokens(),
                format!(
                    "`all({all})` is listed too, and drops every entry of `{all}`: this \
                     target adds nothing"
                ),
            );
        }
    }
}

/// `result` is the value the body returned: it does not exist before the body (`before`)
/// nor on `Err` (`always`), and a parameter of that name would be hidden.
fn result_reads(func: &Function, list: &List, cx: &mut Errors) {
    let mut first = None;
    let mut every_target_reads = !list.targets.is_empty();
    for target in &list.targets {
        let reading = (target.args().iter())
            .filter(|a| reads_result(a))
            .find_map(|a| first_result(a.to_token_stream()));
        match reading {
            Some(span) => {
                first.get_or_insert(span);
            }
            None => every_target_reads = false,
        }
    }
    let Some(first) = first else { return };
    if list.always.is_some() && func.returns == Returns::Result {
        cx.at(
            first,
            "this target reads `result`, and `always` runs the invalidations on `Err` too, \
             where there is no `Ok` value: compute the argument from the parameters, or drop \
             `always`",
        );
    }
    if let Some(before) = list.before
        && every_target_reads
    {
        cx.at(
            before,
            "`before` has nothing to run: every target reads `result`, which only exists \
             once the body has returned",
        );
    }
    if let Some(param) = func.result_param {
        cx.spanned(
            param,
            "a parameter named `result` while a target reads `result`: in `#[invalidates]`, \
             `result` is the value the function returns; rename the parameter",
        );
    }
    if func.returns == Returns::Plain && func.output.is_none() {
        cx.at(
            first,
            "`result` is the value the function returns, and this function returns `()`: \
             compute the argument from the parameters",
        );
    }
}

fn text(tokens: impl ToTokens) -> String {
    tokens.to_token_stream().to_string().replace(' ', "")
}
