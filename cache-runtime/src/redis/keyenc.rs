//! The key encoder: a serde key to the readable, deterministic text that ends an entry's
//! Redis key (`memocache:rates:20240101`, `memocache:user:(7,en)`).
//!
//! Within one key type the text is injective: strings escape every character the grammar uses
//! (`%XX`), composites are bracketed, struct fields are named (so `skip_serializing_if` cannot
//! shift them), `None` is `~`, `Some(x)` is `+x`, the empty string is `''`. The text never
//! contains `:` (the last `:` of a Redis key starts the encoded key) nor `{`/`}` (a Cluster hash
//! tag would pin all of a cache's keys to one slot).
//!
//! | value | text |
//! |---|---|
//! | `true`, `7u32`, `-1i8`, `0.5f64` | `true`, `7`, `-1`, `0.5` |
//! | `"a b:c"`, `""` | `a%20b%3Ac`, `''` |
//! | `None`, `Some(3)` | `~`, `+3` |
//! | `(1, "x")`, `vec![1, 2]`, `()` | `(1,x)`, `[1,2]`, `()` |
//! | `struct P { x: 1, y: 2 }` | `(x=1,y=2)` |
//! | `Enum::A`, `Enum::B(1)`, `Enum::C { f: 1 }` | `A`, `B(1)`, `C(f=1)` |
//! | map `{1: "a"}` | `<1=a>` |
//! | bytes (`serde_bytes`) | `0x` and lowercase hex |

use super::{Error, ErrorKind};
use serde::ser::{self, Serialize};
use std::fmt::{self, Display};

/// Bytes that strings escape, besides controls, space and DEL.
const ESCAPED: &[u8] = b"%:{}(),[]<>=~+'#";

/// Appends the encoding of `key` to `out`.
pub(crate) fn encode_key_into<K: Serialize + ?Sized>(
    key: &K,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    key.serialize(KeySer { out })
        .map_err(|e| Error::new(ErrorKind::Encode, e.0))
}

/// The encoding of `key`, as text.
#[cfg(test)]
pub(crate) fn encode_key<K: Serialize + ?Sized>(key: &K) -> Result<String, Error> {
    let mut out = Vec::new();
    encode_key_into(key, &mut out)?;
    // Every byte written is ASCII or part of a string's UTF-8.
    String::from_utf8(out).map_err(|e| Error::new(ErrorKind::Encode, e.to_string()))
}

#[derive(Debug)]
pub(crate) struct EncodeError(String);

impl Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the key cannot be serialized: {}", self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

struct KeySer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> KeySer<'a> {
    fn text(&mut self, s: &str) {
        if s.is_empty() {
            self.out.extend_from_slice(b"''");
            return;
        }
        for &b in s.as_bytes() {
            if b <= b' ' || b == 0x7F || ESCAPED.contains(&b) {
                self.out
                    .extend_from_slice(&[b'%', hex(b >> 4), hex(b & 0xF)]);
            } else {
                self.out.push(b);
            }
        }
    }

    fn display(&mut self, v: impl Display) {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        let _ = write!(self.out, "{v}");
    }

    fn open(self, name: Option<&str>, bracket: u8, close: u8) -> Compound<'a> {
        let out = self.out;
        if let Some(name) = name {
            KeySer { out: &mut *out }.text(name);
        }
        out.push(bracket);
        Compound {
            out,
            first: true,
            close,
        }
    }
}

struct Compound<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    close: u8,
}

impl Compound<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.sep();
        v.serialize(KeySer { out: self.out })
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, v: &T) -> Result<(), EncodeError> {
        self.sep();
        KeySer { out: self.out }.text(name);
        self.out.push(b'=');
        v.serialize(KeySer { out: self.out })
    }

    fn finish(self) -> Result<(), EncodeError> {
        self.out.push(self.close);
        Ok(())
    }
}

macro_rules! display_numbers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(mut self, v: $ty) -> Result<(), EncodeError> {
            self.display(v);
            Ok(())
        }
    )*};
}

impl<'a> ser::Serializer for KeySer<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    display_numbers!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128
    );

    fn serialize_f32(mut self, v: f32) -> Result<(), EncodeError> {
        self.display(format_args!("{v:?}"));
        Ok(())
    }

    fn serialize_f64(mut self, v: f64) -> Result<(), EncodeError> {
        self.display(format_args!("{v:?}"));
        Ok(())
    }

    fn serialize_char(mut self, v: char) -> Result<(), EncodeError> {
        self.text(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(mut self, v: &str) -> Result<(), EncodeError> {
        self.text(v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        self.out.extend_from_slice(b"0x");
        for &b in v {
            self.out.push(b"0123456789abcdef"[usize::from(b >> 4)]);
            self.out.push(b"0123456789abcdef"[usize::from(b & 0xF)]);
        }
        Ok(())
    }

    fn serialize_none(self) -> Result<(), EncodeError> {
        self.out.push(b'~');
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), EncodeError> {
        self.out.push(b'+');
        v.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), EncodeError> {
        self.out.extend_from_slice(b"()");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EncodeError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.text(variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), EncodeError> {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), EncodeError> {
        let mut c = self.open(Some(variant), b'(', b')');
        c.element(v)?;
        c.finish()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, EncodeError> {
        Ok(self.open(None, b'[', b']'))
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, EncodeError> {
        Ok(self.open(None, b'(', b')'))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, EncodeError> {
        Ok(self.open(None, b'(', b')'))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, EncodeError> {
        Ok(self.open(Some(variant), b'(', b')'))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, EncodeError> {
        Ok(self.open(None, b'<', b'>'))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, EncodeError> {
        Ok(self.open(None, b'(', b')'))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, EncodeError> {
        Ok(self.open(Some(variant), b'(', b')'))
    }
}

macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = EncodeError;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
                self.element(v)
            }
            fn end(self) -> Result<(), EncodeError> {
                self.finish()
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), EncodeError> {
        self.element(k)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.out.push(b'=');
        v.serialize(KeySer { out: self.out })
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = EncodeError;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, v: &T) -> Result<(), EncodeError> {
                self.field(name, v)
            }
            fn end(self) -> Result<(), EncodeError> {
                self.finish()
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
#[path = "keyenc_tests.rs"]
mod tests;

/// A nibble's upper-case hex digit, for `%XX` escapes.
pub(super) fn hex(nibble: u8) -> u8 {
    b"0123456789ABCDEF"[usize::from(nibble & 0xF)]
}
