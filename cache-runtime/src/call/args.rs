//! The body's arguments as generated code passes them: a tuple, and the worker as a function
//! pointer of the same arity (`run((a, b), worker)`, [`Args`]).
//!
//! The worker is the user's function under a hidden name, with the user's own parameters; a
//! function item coerces to the pointer without a closure in between, so a cached function
//! adds no closure (and no `FnOnce::call_once` shim) of its own, and what runs the body is
//! compiled once per signature.

/// A tuple of arguments and the function pointer that takes them, one by one.
///
/// ```
/// use cache_runtime::__private::Args;
/// fn add(a: u64, b: u64) -> u64 {
///     a + b
/// }
/// assert_eq!((2_u64, 3_u64).call(add), 5);
/// ```
// Generated code passes a function of more arguments through a closure of one tuple: this
// only shows if it did not.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tuple of at most 12 arguments for a body returning `{R}`",
    label = "the body's arguments"
)]
pub trait Args<R>: Sized {
    /// `fn(A, B, ..) -> R` for the tuple `(A, B, ..)`.
    type Body: Copy;
    /// `body(a, b, ..)`.
    fn call(self, body: Self::Body) -> R;
}

/// [`Args`] for the tuples of each arity, to twelve.
macro_rules! args {
    ($(($($t:ident $v:ident),*))*) => {
        $(
            impl<R, $($t),*> Args<R> for ($($t,)*) {
                type Body = fn($($t),*) -> R;
                #[inline(always)]
                fn call(self, body: Self::Body) -> R {
                    let ($($v,)*) = self;
                    body($($v),*)
                }
            }
        )*
    };
}

args! {
    ()
    (A a)
    (A a, B b)
    (A a, B b, C c)
    (A a, B b, C c, D d)
    (A a, B b, C c, D d, E e)
    (A a, B b, C c, D d, E e, F f)
    (A a, B b, C c, D d, E e, F f, G g)
    (A a, B b, C c, D d, E e, F f, G g, H h)
    (A a, B b, C c, D d, E e, F f, G g, H h, I i)
    (A a, B b, C c, D d, E e, F f, G g, H h, I i, J j)
    (A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k)
    (A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l)
}

/// `f()`: how [`super::Ticket::run`] passes a closure as a body of one argument.
#[inline(always)]
pub(super) fn call_once<R, F: FnOnce() -> R>(f: F) -> R {
    f()
}
