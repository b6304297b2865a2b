//! Rows serialised as the API serves them, straight into the response body: the JSON list path is the hot path of
//! the API (see scripts/bench_api.sh).
//!
//! [`write_rows`] writes the same bytes as serde_json's compact output of
//! [`Item::from_row`](crate::format::Item::from_row) for each row — the row's fields in order, `deleted` after
//! `deleted_at`, and `x_eur` (decimal EUR string) after every `x_cents` — without building anything per row.
//! Nested values are not decorated, like `Item::decorate`. [`write_json`] writes any value as serde_json would.
//!
//! The writer is a serde `Serializer` of its own rather than serde_json's because of strings, most of a page's
//! bytes: serde_json looks up every byte in a table, this one checks eight bytes at a time and copies the text in
//! one piece when nothing needs an escape (nearly always).
//! Numbers are written by serde_json itself, escapes as serde_json writes them; the tests compare the two.

use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer};
use serde_json::Error;

use crate::format::eur;

/// `rows` as a JSON array of served rows.
pub fn write_rows<T: Serialize>(out: &mut Vec<u8>, rows: &[T]) -> Result<(), Error> {
    out.push(b'[');
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        row.serialize(RowWriter(out))?;
    }
    out.push(b']');
    Ok(())
}

/// `value` as serde_json's compact output.
pub fn write_json<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(Writer(out))
}

/// `text` as a JSON string.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    write_escaped(out, text);
    out.push(b'"');
}

/// `text`'s bytes with JSON escapes, without the quotes. Almost no text needs an escape: it is checked eight
/// bytes at a time and copied in one piece.
fn write_escaped(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut copied = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let kind = ESCAPE[usize::from(byte)];
        if kind == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[copied..index]);
        if kind == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xF)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', kind]);
        }
        copied = index + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The escapes serde_json writes: 0 for none, `u` for `\u00XX`, otherwise the letter after the backslash.
static ESCAPE: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x0C] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Does any byte of `bytes` need an escape: a control character (below 0x20), `"` or `\`?
fn needs_escape(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let mut found = false;
    for chunk in &mut words {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        found |= word_needs_escape(u64::from_ne_bytes(word));
    }
    found || words.remainder().iter().any(|byte| ESCAPE[usize::from(*byte)] != 0)
}

/// A word with `byte` in every lane.
const fn lanes(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// [`needs_escape`] for eight bytes at once: the classic "has a byte below n" and "has a zero byte" tests, exact
/// for whether any lane matches.
fn word_needs_escape(word: u64) -> bool {
    let below_space = word.wrapping_sub(lanes(0x20)) & !word;
    let quote = word ^ lanes(b'"');
    let backslash = word ^ lanes(b'\\');
    let quote = quote.wrapping_sub(lanes(1)) & !quote;
    let backslash = backslash.wrapping_sub(lanes(1)) & !backslash;
    (below_space | quote | backslash) & lanes(0x80) != 0
}

/// Writes one value as serde_json's compact serializer does.
struct Writer<'a>(&'a mut Vec<u8>);

/// An array or object being written: a comma before every element but the first, `close` at the end.
struct Compound<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    close: &'static [u8],
}

impl<'a> Compound<'a> {
    fn open(out: &'a mut Vec<u8>, open: &[u8], close: &'static [u8]) -> Self {
        out.extend_from_slice(open);
        Compound { out, first: true, close }
    }

    fn separate(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    fn key(&mut self, key: &str) {
        self.separate();
        write_str(self.out, key);
        self.out.push(b':');
    }
}

/// `{"variant":` before a variant's content (closed with `}` after it).
fn open_variant(out: &mut Vec<u8>, variant: &str) {
    out.push(b'{');
    write_str(out, variant);
    out.push(b':');
}

/// Numbers as serde_json writes them (integers in decimal, floats shortest round-trip, non-finite as null).
macro_rules! numbers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, value: $ty) -> Result<(), Error> {
            serde_json::to_writer(&mut *self.0, &value)
        }
    )*};
}

impl<'a> Serializer for Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    numbers!(
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128,
        serialize_f32: f32, serialize_f64: f64
    );

    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.0.extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        write_str(self.0, value);
        Ok(())
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<(), Error> {
        self.collect_seq(value)
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.0.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        open_variant(self.0, variant);
        value.serialize(Writer(&mut *self.0))?;
        self.0.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(Compound::open(self.0, b"[", b"]"))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Error> {
        open_variant(self.0, variant);
        Ok(Compound::open(self.0, b"[", b"]}"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(Compound::open(self.0, b"{", b"}"))
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_map(None)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Error> {
        open_variant(self.0, variant);
        Ok(Compound::open(self.0, b"{", b"}}"))
    }
}

impl SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.separate();
        value.serialize(Writer(self.out))
    }

    fn end(self) -> Result<(), Error> {
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

macro_rules! like_seq {
    ($($trait:ident: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
                SerializeSeq::serialize_element(self, value)
            }

            fn end(self) -> Result<(), Error> {
                SerializeSeq::end(self)
            }
        }
    )*};
}

like_seq!(SerializeTuple: serialize_element, SerializeTupleStruct: serialize_field, SerializeTupleVariant: serialize_field);

impl SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.separate();
        key.serialize(KeyWriter(self.out))?;
        self.out.push(b':');
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(Writer(self.out))
    }

    fn end(self) -> Result<(), Error> {
        SerializeSeq::end(self)
    }
}

impl SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.key(key);
        value.serialize(Writer(self.out))
    }

    fn end(self) -> Result<(), Error> {
        SerializeSeq::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        SerializeStruct::serialize_field(self, key, value)
    }

    fn end(self) -> Result<(), Error> {
        SerializeSeq::end(self)
    }
}

/// Map keys as serde_json writes them: strings, and integers and booleans in quotes. (serde_json also takes
/// floats; no map the API serves has them, and they are refused here.)
struct KeyWriter<'a>(&'a mut Vec<u8>);

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

macro_rules! quoted {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, value: $ty) -> Result<(), Error> {
            self.0.push(b'"');
            serde_json::to_writer(&mut *self.0, &value)?;
            self.0.push(b'"');
            Ok(())
        }
    )*};
}

impl<'a> Serializer for KeyWriter<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    quoted!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
        serialize_u128: u128
    );

    fn serialize_f32(self, _value: f32) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_f64(self, _value: f64) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        write_str(self.0, value);
        Ok(())
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_none(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

/// Writes one row: like [`Writer`], except that the row's own struct gains `deleted` and `x_eur` fields.
struct RowWriter<'a>(&'a mut Vec<u8>);

/// The row's struct: its fields, each followed by its extra field, if any.
struct RowFields<'a>(Compound<'a>);

impl SerializeStruct for RowFields<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        let out = &mut self.0;
        out.key(key);
        let start = out.out.len();
        value.serialize(Writer(out.out))?;
        if key == "deleted_at" {
            let deleted = out.out[start..] != *b"null";
            out.key("deleted");
            out.out.extend_from_slice(if deleted { b"true" } else { b"false" });
        } else if let Some(stem) = key.strip_suffix("_cents") {
            // The amount as the JSON number it was written as; anything else (null, a fraction) has no EUR form.
            let cents = std::str::from_utf8(&out.out[start..]).ok().and_then(|text| text.parse::<i64>().ok());
            out.separate();
            out.out.push(b'"');
            write_escaped(out.out, stem);
            out.out.extend_from_slice(b"_eur\":");
            match cents {
                Some(cents) => write_str(out.out, &eur(cents)),
                None => out.out.extend_from_slice(b"null"),
            }
        }
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        SerializeSeq::end(self.0)
    }
}

/// Every call but `serialize_struct` goes to [`Writer`] as it is.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        fn $method(self, $($arg: $ty),*) -> Result<$ret, Error> {
            Writer(self.0).$method($($arg),*)
        }
    )*};
}

impl<'a> Serializer for RowWriter<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = RowFields<'a>;
    type SerializeStructVariant = Compound<'a>;

    forward! {
        serialize_bool(v: bool) -> ();
        serialize_i8(v: i8) -> ();
        serialize_i16(v: i16) -> ();
        serialize_i32(v: i32) -> ();
        serialize_i64(v: i64) -> ();
        serialize_i128(v: i128) -> ();
        serialize_u8(v: u8) -> ();
        serialize_u16(v: u16) -> ();
        serialize_u32(v: u32) -> ();
        serialize_u64(v: u64) -> ();
        serialize_u128(v: u128) -> ();
        serialize_f32(v: f32) -> ();
        serialize_f64(v: f64) -> ();
        serialize_char(v: char) -> ();
        serialize_str(v: &str) -> ();
        serialize_bytes(v: &[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(name: &'static str) -> ();
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str) -> ();
        serialize_seq(len: Option<usize>) -> Compound<'a>;
        serialize_tuple(len: usize) -> Compound<'a>;
        serialize_tuple_struct(name: &'static str, len: usize) -> Compound<'a>;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Compound<'a>;
        serialize_map(len: Option<usize>) -> Compound<'a>;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize)
            -> Compound<'a>;
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        Writer(self.0).serialize_some(value)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, name: &'static str, value: &T) -> Result<(), Error> {
        Writer(self.0).serialize_newtype_struct(name, value)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        Writer(self.0).serialize_newtype_variant(name, index, variant, value)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<RowFields<'a>, Error> {
        Ok(RowFields(Compound::open(self.0, b"{", b"}")))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::format::Item;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Row {
        id: &'static str,
        deleted_at: Option<&'static str>,
        amount_cents: Option<i64>,
        total_cents: f64,
        tags: Vec<&'static str>,
        nested: Nested,
    }

    #[derive(Serialize)]
    struct Nested {
        other_cents: i64,
    }

    #[test]
    fn served_rows_are_the_items_of_the_same_rows() {
        let rows = [
            Row {
                id: "a",
                deleted_at: None,
                amount_cents: Some(123456),
                total_cents: 1.5,
                tags: vec!["x"],
                nested: Nested { other_cents: 5 },
            },
            Row {
                id: "b\"\\\n",
                deleted_at: Some("2026-11-30"),
                amount_cents: None,
                total_cents: 7.0,
                tags: vec![],
                nested: Nested { other_cents: 1 },
            },
            Row {
                id: "c",
                deleted_at: None,
                amount_cents: Some(-5),
                total_cents: f64::NAN,
                tags: vec!["ä", "\u{1}"],
                nested: Nested { other_cents: -1 },
            },
        ];
        let mut served = Vec::new();
        write_rows(&mut served, &rows).expect("served");
        let items: Vec<Item> = rows.iter().map(|row| Item::from_row(row).expect("item")).collect();
        assert_eq!(String::from_utf8(served).expect("utf-8"), serde_json::to_string(&items).expect("items"));
        let mut first = Vec::new();
        write_rows(&mut first, &rows[..1]).expect("served");
        assert!(first.starts_with(
            br#"[{"id":"a","deleted_at":null,"deleted":false,"amount_cents":123456,"amount_eur":"1234.56""#
        ));
    }

    /// Every ASCII character, control characters at word boundaries, multi-byte characters across them.
    fn strings() -> Vec<String> {
        let mut strings: Vec<String> = (0u8..=0x7F).map(|byte| char::from(byte).to_string()).collect();
        strings.push((0u8..=0x7F).map(char::from).collect());
        for offset in 0..17 {
            for special in ['"', '\\', '\n', '\u{1f}', '\u{7f}', 'ä', '€', '😀'] {
                let mut text = "Schulstraße 1".repeat(2);
                let at = text.char_indices().nth(offset).map_or(text.len(), |(index, _)| index);
                text.insert(at, special);
                strings.push(text);
            }
        }
        strings.push(String::new());
        strings
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in strings() {
            let mut out = Vec::new();
            write_str(&mut out, &text);
            assert_eq!(String::from_utf8(out).expect("utf-8"), serde_json::to_string(&text).expect("json"), "{text:?}");
        }
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: bool, b: Option<f32> },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Everything {
        shapes: Vec<Shape>,
        numbers: (i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, f32, f64),
        floats: Vec<f64>,
        character: char,
        bytes: &'static [u8],
        unit: (),
        unit_struct: Unit,
        by_number: BTreeMap<u32, &'static str>,
        by_text: BTreeMap<String, serde_json::Value>,
        none: Option<u8>,
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let value = Everything {
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(-3, "x".into()),
                Shape::Struct { a: true, b: Some(0.1) },
                Shape::Struct { a: false, b: None },
            ],
            numbers: (-8, -16, -32, i64::MIN, i128::MAX, 8, 16, 32, u64::MAX, u128::MAX, 1.5, -2.25e-300),
            floats: vec![0.0, -0.0, 1e21, 1e-7, 123456.789, f64::INFINITY, f64::NAN, f64::MAX],
            character: '"',
            bytes: b"\x00\xff",
            unit: (),
            unit_struct: Unit,
            by_number: BTreeMap::from([(1, "one"), (20, "twenty")]),
            by_text: BTreeMap::from([
                ("a\"b".to_owned(), serde_json::json!({"x": [1, null, "y"]})),
                (String::new(), serde_json::json!(null)),
            ]),
            none: None,
        };
        let mut out = Vec::new();
        write_json(&mut out, &value).expect("written");
        assert_eq!(String::from_utf8(out).expect("utf-8"), serde_json::to_string(&value).expect("json"));
    }
}
