//! OParl objects read straight into typed structs, with the tolerances of [`super::json`] built into the field
//! types: a page is parsed once into what the normaliser needs, unknown fields are skipped without being built.
//!
//! Every field type accepts any JSON value, so one odd field never fails an object or a page:
//! - [`Text`]: a string or number, trimmed; `"N/A"`, `""`, `" "` and values of other types are absent;
//! - [`Flag`], [`Int`]: booleans and integers also when written as text;
//! - [`Many`]: an array, or one value where an array is due; `null` and placeholders are empty;
//! - [`Ref`]: a reference, as a URL or an embedded object's `id`;
//! - [`Item`]: an embedded object (with or without `type`), or what stands where an object is due;
//! - [`ListPage`]: a list page: the spec's envelope, a bare array, `[]` or an error object.
//!
//! Bodies that are not valid JSON because of raw control characters are repaired first ([`parse`]); a body the
//! typed reading refuses (duplicate keys) is read through `serde_json::Value`, which keeps the last value.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::json;

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A text field as [`json::as_text`] reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub Option<String>);

impl Text {
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a text")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(json::clean_text(v)))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(json::clean_string(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(serde_json::Number::from_f64(v).map(|n| n.to_string())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
                Text::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                drain_seq(seq).map(|()| Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                drain_map(map).map(|()| Text(None))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A boolean as [`json::boolean`] reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag(pub Option<bool>);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FlagVisitor;
        impl<'de> Visitor<'de> for FlagVisitor {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(Some(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                Ok(Flag(i64::try_from(v).ok().map(|n| n != 0)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
                Ok(Flag(Some(v != 0)))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Flag, E> {
                Ok(Flag(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                Ok(Flag(json::parse_boolean(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Flag, E> {
                Ok(Flag(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Flag, E> {
                Ok(Flag(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Flag, D::Error> {
                Flag::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Flag, A::Error> {
                drain_seq(seq).map(|()| Flag(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Flag, A::Error> {
                drain_map(map).map(|()| Flag(None))
            }
        }
        deserializer.deserialize_any(FlagVisitor)
    }
}

/// An integer as [`json::integer`] reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Int(pub Option<i64>);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl<'de> Visitor<'de> for IntVisitor {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                Ok(Int(Some(i64::try_from(v).unwrap_or(i64::MAX))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(Some(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                Ok(Int(Some(v as i64)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Int, E> {
                Ok(Int(v.trim().parse().ok()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Int, D::Error> {
                Int::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Int, A::Error> {
                drain_seq(seq).map(|()| Int(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Int, A::Error> {
                drain_map(map).map(|()| Int(None))
            }
        }
        deserializer.deserialize_any(IntVisitor)
    }
}

/// An array field as [`json::many`] reads it: one value where an array is due is an array of one; `null`, absent
/// and placeholder strings are empty; `null` elements are dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Many<T>(pub Vec<T>);

impl<T> Default for Many<T> {
    fn default() -> Self {
        Many(Vec::new())
    }
}

impl Many<Ref> {
    /// The first reference (as [`json::first_reference`]).
    pub fn first(self) -> Option<String> {
        self.0.into_iter().find_map(|reference| reference.0)
    }

    /// Every reference (as [`json::references`]).
    pub fn urls(self) -> Vec<String> {
        self.0.into_iter().filter_map(|reference| reference.0).collect()
    }
}

fn one<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<Many<T>, D::Error> {
    T::deserialize(deserializer).map(|value| Many(vec![value]))
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Many<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ManyVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ManyVisitor<T> {
            type Value = Many<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array or one value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Many<T>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(256));
                while let Some(item) = seq.next_element::<Option<T>>()? {
                    items.extend(item);
                }
                Ok(Many(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Many<T>, A::Error> {
                one(MapAccessDeserializer::new(map))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Many<T>, E> {
                if json::is_absent(v.trim()) {
                    return Ok(Many(Vec::new()));
                }
                one(v.into_deserializer())
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Many<T>, E> {
                if json::is_absent(v.trim()) {
                    return Ok(Many(Vec::new()));
                }
                one(de::value::BorrowedStrDeserializer::new(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Many<T>, E> {
                if json::is_absent(v.trim()) {
                    return Ok(Many(Vec::new()));
                }
                one(v.into_deserializer())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Many<T>, E> {
                one(v.into_deserializer())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Many<T>, E> {
                one(v.into_deserializer())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Many<T>, E> {
                one(v.into_deserializer())
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Many<T>, E> {
                one(v.into_deserializer())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Many<T>, E> {
                Ok(Many(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Many<T>, E> {
                Ok(Many(Vec::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Many<T>, D::Error> {
                Many::deserialize(d)
            }
        }
        deserializer.deserialize_any(ManyVisitor(PhantomData))
    }
}

/// Is a map key `id`? Read without allocating the key.
struct IsId(bool);

impl<'de> Deserialize<'de> for IsId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = IsId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IsId, E> {
                Ok(IsId(v == "id"))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A reference as [`json::reference`] reads it: the URL itself, or an embedded object's `id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ref(pub Option<String>);

impl<'de> Deserialize<'de> for Ref {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;
        impl<'de> Visitor<'de> for RefVisitor {
            type Value = Ref;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a reference")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ref, E> {
                Ok(Ref(json::clean_text(v)))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Ref, E> {
                Ok(Ref(json::clean_string(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ref, A::Error> {
                let mut id = None;
                while let Some(IsId(is_id)) = map.next_key()? {
                    if is_id {
                        id = map.next_value::<Text>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Ref(id))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Ref, A::Error> {
                drain_seq(seq).map(|()| Ref(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Ref, E> {
                Ok(Ref(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Ref, E> {
                Ok(Ref(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Ref, E> {
                Ok(Ref(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Ref, E> {
                Ok(Ref(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Ref, E> {
                Ok(Ref(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Ref, E> {
                Ok(Ref(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Ref, D::Error> {
                Ref::deserialize(d)
            }
        }
        deserializer.deserialize_any(RefVisitor)
    }
}

/// What stands where an object is due.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<T> {
    Object(T),
    /// A URL instead of the embedded object.
    Reference(String),
    /// Anything else, as JSON text (for the rejection).
    Other(String),
}

impl<T> Item<T> {
    /// The item as JSON text, for a rejection.
    pub fn describe(&self) -> String {
        match self {
            Item::Object(_) => "{…}".to_owned(),
            Item::Reference(url) => Value::String(url.clone()).to_string(),
            Item::Other(text) => text.clone(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ItemVisitor<T> {
            type Value = Item<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Item::Object)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Item<T>, E> {
                Ok(Item::Reference(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Item<T>, E> {
                Ok(Item::Reference(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Item<T>, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(seq)).map(|value| Item::Other(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Item<T>, E> {
                Ok(Item::Other(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Item<T>, E> {
                Ok(Item::Other(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Item<T>, E> {
                Ok(Item::Other(Value::from(v).to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Item<T>, E> {
                Ok(Item::Other(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Item<T>, E> {
                Ok(Item::Other("null".to_owned()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Item<T>, E> {
                Ok(Item::Other("null".to_owned()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Item<T>, D::Error> {
                Item::deserialize(d)
            }
        }
        deserializer.deserialize_any(ItemVisitor(PhantomData))
    }
}

/// A field that only means something as an object (a meeting's `location`); anything else is absent.
#[derive(Debug, Clone, PartialEq)]
pub struct Obj<T>(pub Option<T>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Item::<T>::deserialize(deserializer)? {
            Item::Object(object) => Ok(Obj(Some(object))),
            _ => Ok(Obj(None)),
        }
    }
}

/// A list page, read tolerantly (see [`super::client`]).
#[derive(Debug)]
pub struct ListPage<E> {
    pub items: Vec<E>,
    pub next: Option<String>,
    pub total_elements: Option<u64>,
    pub total_pages: Option<u64>,
    /// Why the page was read as empty although it was not a list page (an error object).
    pub problem: Option<String>,
    /// The page is one object without an envelope (its `id` was seen); the caller reads it as the only item.
    pub single_object: bool,
}

impl<E> Default for ListPage<E> {
    fn default() -> Self {
        ListPage {
            items: Vec::new(),
            next: None,
            total_elements: None,
            total_pages: None,
            problem: None,
            single_object: false,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Links {
    next: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Pagination {
    total_elements: Int,
    total_pages: Int,
}

/// The keys of a page envelope the reader looks at.
enum PageKey {
    Data,
    Links,
    Pagination,
    Id,
    /// `error`, `message`, `detail` or `title` of an error object, by its rank.
    Problem(usize),
    Other,
}

const PROBLEM_KEYS: [&str; 4] = ["error", "message", "detail", "title"];

impl<'de> Deserialize<'de> for PageKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = PageKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PageKey, E> {
                Ok(match v {
                    "data" => PageKey::Data,
                    "links" => PageKey::Links,
                    "pagination" => PageKey::Pagination,
                    "id" => PageKey::Id,
                    other => match PROBLEM_KEYS.iter().position(|key| *key == other) {
                        Some(rank) => PageKey::Problem(rank),
                        None => PageKey::Other,
                    },
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

fn not_a_list_page<E>(value: &Value) -> ListPage<E> {
    let text = value.to_string();
    let shown =
        if text.chars().count() <= 80 { text } else { format!("{}…", text.chars().take(80).collect::<String>()) };
    ListPage { problem: Some(format!("not a list page: {shown}")), ..ListPage::default() }
}

impl<'de, E: Deserialize<'de>> Deserialize<'de> for ListPage<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PageVisitor<E>(PhantomData<E>);
        impl<'de, E: Deserialize<'de>> Visitor<'de> for PageVisitor<E> {
            type Value = ListPage<E>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OParl list page")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ListPage<E>, A::Error> {
                let Many(items) = ManyOf::<E>::visit(seq)?;
                Ok(ListPage { items, ..ListPage::default() })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListPage<E>, A::Error> {
                let mut data: Option<Many<E>> = None;
                let mut links: Obj<Links> = Obj(None);
                let mut pagination: Obj<Pagination> = Obj(None);
                let mut has_id = false;
                let mut problems: [Option<Value>; 4] = Default::default();
                while let Some(key) = map.next_key::<PageKey>()? {
                    match key {
                        PageKey::Data => data = Some(map.next_value()?),
                        PageKey::Links => links = map.next_value()?,
                        PageKey::Pagination => pagination = map.next_value()?,
                        PageKey::Id => {
                            has_id = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        PageKey::Problem(rank) => problems[rank] = Some(map.next_value()?),
                        PageKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let mut page = ListPage::default();
                if let Some(Many(items)) = data {
                    page.items = items;
                    page.next = links.0.and_then(|links| links.next.0);
                    if let Some(pagination) = pagination.0 {
                        page.total_elements = pagination.total_elements.0.and_then(|n| u64::try_from(n).ok());
                        page.total_pages = pagination.total_pages.0.and_then(|n| u64::try_from(n).ok());
                    }
                } else if has_id {
                    page.single_object = true;
                } else {
                    let message = problems
                        .iter()
                        .flatten()
                        .map(|value| json::as_text(value).unwrap_or_else(|| value.to_string()))
                        .next()
                        .unwrap_or_else(|| "an object without `data`".to_owned());
                    page.problem = Some(message);
                }
                Ok(page)
            }
            fn visit_str<Er: de::Error>(self, v: &str) -> Result<ListPage<E>, Er> {
                Ok(not_a_list_page(&Value::String(v.to_owned())))
            }
            fn visit_u64<Er: de::Error>(self, v: u64) -> Result<ListPage<E>, Er> {
                Ok(not_a_list_page(&Value::from(v)))
            }
            fn visit_i64<Er: de::Error>(self, v: i64) -> Result<ListPage<E>, Er> {
                Ok(not_a_list_page(&Value::from(v)))
            }
            fn visit_f64<Er: de::Error>(self, v: f64) -> Result<ListPage<E>, Er> {
                Ok(not_a_list_page(&Value::from(v)))
            }
            fn visit_bool<Er: de::Error>(self, v: bool) -> Result<ListPage<E>, Er> {
                Ok(not_a_list_page(&Value::from(v)))
            }
            fn visit_unit<Er: de::Error>(self) -> Result<ListPage<E>, Er> {
                Ok(not_a_list_page(&Value::Null))
            }
        }
        deserializer.deserialize_any(PageVisitor(PhantomData))
    }
}

/// The sequence half of [`Many`], for a page that is a bare array.
struct ManyOf<E>(PhantomData<E>);

impl<E> ManyOf<E> {
    fn visit<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Many<E>, A::Error>
    where
        E: Deserialize<'de>,
    {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(256));
        while let Some(item) = seq.next_element::<Option<E>>()? {
            items.extend(item);
        }
        Ok(Many(items))
    }
}

/// Reads `text` as `T`, repairing raw control characters and falling back to `serde_json::Value` for what the
/// typed reading refuses (duplicate keys). Returns the repaired text when there was a repair.
fn parse_text<T: DeserializeOwned>(text: &str) -> Result<(T, Option<String>), serde_json::Error> {
    let first = match serde_json::from_str::<T>(text) {
        Ok(value) => return Ok((value, None)),
        Err(error) => error,
    };
    let repaired = if first.is_syntax() || first.is_eof() { json::repair(text) } else { None };
    if repaired.is_some() {
        tracing::debug!(error = %first, "repaired raw control characters in JSON");
    }
    let source = repaired.as_deref().unwrap_or(text);
    if repaired.is_some() {
        if let Ok(value) = serde_json::from_str::<T>(source) {
            return Ok((value, repaired));
        }
    }
    let value: Value = match serde_json::from_str(source) {
        Ok(value) => value,
        Err(error) if repaired.is_some() => return Err(error),
        Err(_) => return Err(first),
    };
    Ok((T::deserialize(value)?, repaired))
}

/// Parses a response body (decoded by its charset, see [`crate::fetch::decode_text`]) as a list page of `E`.
pub fn parse_page<E: DeserializeOwned>(
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<ListPage<E>, serde_json::Error> {
    let text = crate::fetch::decode_text(bytes, content_type);
    let (mut page, repaired) = parse_text::<ListPage<E>>(&text)?;
    if page.single_object {
        // A single object served where a list page is due.
        let (item, _) = parse_text::<E>(repaired.as_deref().unwrap_or(&text))?;
        page.items = vec![item];
    }
    Ok(page)
}

/// Reads an already parsed value as a list page of `E`.
pub fn page_of_value<E: DeserializeOwned>(value: Value) -> Result<ListPage<E>, serde_json::Error> {
    let mut page = ListPage::<E>::deserialize(&value)?;
    if page.single_object {
        page.items = vec![E::deserialize(value)?];
    }
    Ok(page)
}

/// Reads an already parsed object as `T` (objects fetched one by one).
pub fn object_of_value<T: DeserializeOwned>(value: &Value) -> Result<T, serde_json::Error> {
    T::deserialize(value)
}

/// An OParl type a body lists.
pub trait ListObject: DeserializeOwned + Send + 'static {
    /// The type name (`Paper`), as [`json::type_name`] gives it.
    const TYPE: &'static str;
    /// The object's `type` URI.
    fn type_uri(&self) -> &Text;
}

/// The type name of a `type` URI of either OParl version: `Paper` for `https://schema.oparl.org/1.1/Paper`.
pub fn type_name(uri: &str) -> &str {
    uri.trim_end_matches('/').rsplit('/').next().unwrap_or(uri)
}

macro_rules! oparl_object {
    ($(#[$doc:meta])* $name:ident = $type_name:literal { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(default, rename_all = "camelCase")]
        pub struct $name {
            pub id: Text,
            #[serde(rename = "type")]
            pub type_uri: Text,
            pub deleted: Flag,
            pub web: Text,
            $(pub $field: $ty,)*
        }

        impl ListObject for $name {
            const TYPE: &'static str = $type_name;
            fn type_uri(&self) -> &Text {
                &self.type_uri
            }
        }
    };
}

oparl_object!(OrganizationObject = "Organization" {
    name: Text, short_name: Text, organization_type: Text, classification: Text, start_date: Text, end_date: Text,
});

oparl_object!(PersonObject = "Person" {
    name: Text, family_name: Text, given_name: Text, title: Many<Text>, membership: Many<Item<MembershipObject>>,
});

oparl_object!(MembershipObject = "Membership" {
    person: Ref, organization: Many<Ref>, role: Text, voting_right: Flag, start_date: Text, end_date: Text,
});

oparl_object!(MeetingObject = "Meeting" {
    name: Text, start: Text, end: Text, organization: Many<Ref>, location: Obj<Location>, meeting_state: Text,
    cancelled: Flag, invitation: Many<Item<FileObject>>, results_protocol: Many<Item<FileObject>>,
    verbatim_protocol: Many<Item<FileObject>>, auxiliary_file: Many<Item<FileObject>>,
    agenda_item: Many<Item<AgendaItemObject>>,
});

oparl_object!(AgendaItemObject = "AgendaItem" {
    name: Text, meeting: Many<Ref>, number: Text, result: Text, order: Int, public: Flag, resolution_text: Text,
    resolution_file: Many<Item<FileObject>>, auxiliary_file: Many<Item<FileObject>>, consultation: Many<Ref>,
});

oparl_object!(PaperObject = "Paper" {
    name: Text, reference: Text, under_direction_of: Many<Ref>, paper_type: Text, date: Text,
    main_file: Many<Item<FileObject>>, auxiliary_file: Many<Item<FileObject>>,
    consultation: Many<Item<ConsultationObject>>,
});

oparl_object!(ConsultationObject = "Consultation" {
    paper: Many<Ref>, agenda_item: Many<Ref>, meeting: Many<Ref>, organization: Many<Ref>, role: Text,
    authoritative: Flag,
});

oparl_object!(FileObject = "File" {
    name: Text, file_name: Text, paper: Many<Ref>, meeting: Many<Ref>, agenda_item: Many<Ref>, access_url: Text,
    download_url: Text, mime_type: Text, size: Int, date: Text,
});

/// A meeting's place.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Location {
    pub description: Text,
    pub room: Text,
    pub street_address: Text,
    pub postal_code: Text,
    pub locality: Text,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paper(value: Value) -> PaperObject {
        serde_json::from_str(&value.to_string()).expect("typed paper")
    }

    #[test]
    fn typed_fields_read_like_the_value_helpers() {
        let value = json!({
            "id": " https://x/paper/1 ", "type": "https://schema.oparl.org/1.0/Paper", "name": "N/A",
            "reference": 17, "deleted": "true", "date": "", "paperType": {"odd": 1},
            "underDirectionOf": {"id": "https://x/org/1", "name": "Amt"},
            "mainFile": {"id": "https://x/file/1"}, "auxiliaryFile": ["https://x/file/2", null, {"id": "https://x/file/3"}],
            "consultation": null, "extra": [1, {"deep": [true]}]
        });
        let typed = paper(value.clone());
        assert_eq!(typed.id.0, json::text(&value, "id"));
        assert_eq!(typed.name.0, None);
        assert_eq!(typed.reference.get(), Some("17"));
        assert_eq!(typed.deleted.0, Some(true));
        assert_eq!(typed.date.0, None);
        assert_eq!(typed.paper_type.0, None);
        assert_eq!(typed.under_direction_of.first().as_deref(), Some("https://x/org/1"));
        assert_eq!(typed.main_file.0.len(), 1);
        assert!(matches!(&typed.auxiliary_file.0[..], [Item::Reference(_), Item::Object(_)]));
        assert!(typed.consultation.0.is_empty());
        assert_eq!(type_name(typed.type_uri.get().unwrap_or_default()), "Paper");
    }

    #[test]
    fn duplicate_keys_fall_back_to_the_last_value() {
        let text = r#"{"data": [{"id": "u1", "name": "alt", "name": "neu"}]}"#;
        let page: ListPage<Item<PaperObject>> = parse_page(text.as_bytes(), None).expect("page");
        let Item::Object(paper) = &page.items[0] else { panic!("an object") };
        assert_eq!(paper.name.get(), Some("neu"));
    }

    #[test]
    fn pages_of_every_shape() {
        let page: ListPage<Item<PaperObject>> =
            parse_page(br#"{"data": [{"id": "a"}, null, 7], "links": {"next": "u2"}, "pagination": {"totalElements": "3", "totalPages": 2}}"#, None)
                .expect("page");
        assert_eq!(page.items.len(), 2);
        assert!(matches!(&page.items[1], Item::Other(text) if text == "7"));
        assert_eq!((page.next.as_deref(), page.total_elements, page.total_pages), (Some("u2"), Some(3), Some(2)));
        let single: ListPage<Item<PaperObject>> = parse_page(br#"{"id": "only", "name": "x"}"#, None).expect("page");
        assert!(matches!(&single.items[..], [Item::Object(paper)] if paper.name.get() == Some("x")));
        let broken: ListPage<Item<PaperObject>> =
            parse_page("{\"data\": [{\"id\": \"a\", \"name\": \"Zeile\r\neins\u{2}\"}]}".as_bytes(), None)
                .expect("repaired");
        assert!(matches!(&broken.items[..], [Item::Object(paper)] if paper.name.get() == Some("Zeile\r\neins")));
        let text: ListPage<Item<PaperObject>> = parse_page(br#""Wartung""#, None).expect("page");
        assert_eq!(text.problem.as_deref(), Some("not a list page: \"Wartung\""));
    }
}
