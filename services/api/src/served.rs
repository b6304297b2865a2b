//! Rows serialised as the API serves them, straight into the output: the row's fields in order, `deleted` after
//! `deleted_at`, and `x_eur` (decimal EUR string) after every `x_cents`. The same shape as
//! [`Item::from_row`](crate::format::Item::from_row), without building a JSON tree per row first (the JSON list
//! path is the hot path of the API; see scripts/bench_api.sh).
//!
//! [`Served`] hands the row a serializer that passes everything through except the row's own struct, whose fields
//! it writes as map entries plus the extra ones. Nested values are not decorated, like `Item::decorate`.

use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};
use serde_json::Value;

use crate::format::eur;

/// A row as served.
pub struct Served<'a, T>(pub &'a T);

impl<T: Serialize> Serialize for Served<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Decorating(serializer))
    }
}

/// Rows as a JSON array of [`Served`].
pub struct ServedRows<'a, T>(pub &'a [T]);

impl<T: Serialize> Serialize for ServedRows<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Served))
    }
}

struct Decorating<S>(S);

/// The fields of the row's struct, written as map entries with the extra ones.
struct DecoratedStruct<M>(M);

impl<M: SerializeMap> SerializeStruct for DecoratedStruct<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)?;
        if key == "deleted_at" {
            let deleted = !matches!(serde_json::to_value(value), Ok(Value::Null));
            self.0.serialize_entry("deleted", &deleted)?;
        } else if let Some(stem) = key.strip_suffix("_cents") {
            let amount = serde_json::to_value(value).ok().and_then(|value| value.as_i64()).map(eur);
            self.0.serialize_entry(&format!("{stem}_eur"), &amount)?;
        }
        Ok(())
    }

    fn end(self) -> Result<M::Ok, M::Error> {
        self.0.end()
    }
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        fn $method(self, $($arg: $ty),*) -> Result<$ret, S::Error> {
            self.0.$method($($arg),*)
        }
    )*};
}

impl<S: Serializer> Serializer for Decorating<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = S::SerializeSeq;
    type SerializeTuple = S::SerializeTuple;
    type SerializeTupleStruct = S::SerializeTupleStruct;
    type SerializeTupleVariant = S::SerializeTupleVariant;
    type SerializeMap = S::SerializeMap;
    type SerializeStruct = DecoratedStruct<S::SerializeMap>;
    type SerializeStructVariant = S::SerializeStructVariant;

    forward! {
        serialize_bool(v: bool) -> S::Ok;
        serialize_i8(v: i8) -> S::Ok;
        serialize_i16(v: i16) -> S::Ok;
        serialize_i32(v: i32) -> S::Ok;
        serialize_i64(v: i64) -> S::Ok;
        serialize_u8(v: u8) -> S::Ok;
        serialize_u16(v: u16) -> S::Ok;
        serialize_u32(v: u32) -> S::Ok;
        serialize_u64(v: u64) -> S::Ok;
        serialize_f32(v: f32) -> S::Ok;
        serialize_f64(v: f64) -> S::Ok;
        serialize_char(v: char) -> S::Ok;
        serialize_str(v: &str) -> S::Ok;
        serialize_bytes(v: &[u8]) -> S::Ok;
        serialize_none() -> S::Ok;
        serialize_unit() -> S::Ok;
        serialize_unit_struct(name: &'static str) -> S::Ok;
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str) -> S::Ok;
        serialize_seq(len: Option<usize>) -> S::SerializeSeq;
        serialize_tuple(len: usize) -> S::SerializeTuple;
        serialize_tuple_struct(name: &'static str, len: usize) -> S::SerializeTupleStruct;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize)
            -> S::SerializeTupleVariant;
        serialize_map(len: Option<usize>) -> S::SerializeMap;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize)
            -> S::SerializeStructVariant;
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(value)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, name: &'static str, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, value)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_variant(name, index, variant, value)
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeStruct, S::Error> {
        Ok(DecoratedStruct(self.0.serialize_map(Some(len + 4))?))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Item;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Row {
        id: &'static str,
        deleted_at: Option<&'static str>,
        amount_cents: Option<i64>,
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
                tags: vec!["x"],
                nested: Nested { other_cents: 5 },
            },
            Row {
                id: "b",
                deleted_at: Some("2026-11-30"),
                amount_cents: None,
                tags: vec![],
                nested: Nested { other_cents: 1 },
            },
        ];
        let served = serde_json::to_string(&ServedRows(&rows)).expect("served");
        let items: Vec<Item> = rows.iter().map(|row| Item::from_row(row).expect("item")).collect();
        assert_eq!(served, serde_json::to_string(&items).expect("items"));
        assert!(served.starts_with(
            r#"[{"id":"a","deleted_at":null,"deleted":false,"amount_cents":123456,"amount_eur":"1234.56""#
        ));
    }
}
