//! Pieces of the OpenAPI description (`crate::openapi`) that answer types name with
//! `#[schema(schema_with = …)]`: the string codes whose lists live in code (core's `ALL`
//! lists, the registry's choice tables), so the description cannot drift from them.

use serde::Serialize;
use tsunagu_core::care::{CareItem, CareVariant, Tier, Watch};
use tsunagu_core::device::DeviceKind;
use utoipa::openapi::Array;
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};

/// A string that is one of `codes`.
pub fn one_of<I, S>(codes: I, description: &str) -> Object
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let values: Vec<String> = codes.into_iter().map(Into::into).collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some(values))
        .description((!description.is_empty()).then(|| description.to_string()))
        .build()
}

/// A string code from one of the registry's `(code, label)` tables; the labels are listed
/// in the description so a reader sees what each code means.
pub fn choice(table: &[(&str, &str)], description: &str) -> Object {
    let labels: Vec<String> = table.iter().map(|(c, l)| format!("{c}: {l}")).collect();
    let described = if description.is_empty() {
        labels.join("、")
    } else {
        format!("{description}（{}）", labels.join("、"))
    };
    one_of(table.iter().map(|(code, _)| *code), &described)
}

/// The code a unit enum variant serialises to (its serde name).
fn serde_code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(code)) => code,
        _ => String::new(),
    }
}

/// The codes of every variant of a core enum, as serde writes them.
pub fn serde_codes<T: Serialize>(all: &[T]) -> Vec<String> {
    all.iter().map(serde_code).collect()
}

pub fn care_item() -> Object {
    one_of(
        CareItem::ALL.map(CareItem::code),
        "医療的ケアの項目（判定スコア表の項目）",
    )
}

pub fn care_items() -> Array {
    ArrayBuilder::new().items(care_item()).build()
}

pub fn watch() -> Object {
    nullable(one_of(
        Watch::ALL.map(Watch::code),
        "見守りの程度（high / medium / low）",
    ))
}

pub fn care_variant() -> Object {
    nullable(one_of(
        CareVariant::ALL.map(CareVariant::code),
        "項目の種類（あるとき）",
    ))
}

pub fn tier() -> Object {
    one_of(Tier::ALL.map(Tier::code), "判定スコアの区分")
}

pub fn device_kind() -> Object {
    one_of(DeviceKind::ALL.map(DeviceKind::code), "医療機器の種類")
}

/// The same schema, also allowing `null`.
pub fn nullable(mut object: Object) -> Object {
    let mut types = match &object.schema_type {
        SchemaType::Type(t) => vec![t.clone()],
        SchemaType::Array(ts) => ts.clone(),
        SchemaType::AnyValue => return object,
    };
    if !types.contains(&Type::Null) {
        types.push(Type::Null);
    }
    object.schema_type = SchemaType::from_iter(types);
    if let Some(values) = object.enum_values.as_mut() {
        values.push(serde_json::Value::Null);
    }
    object
}

/// A regular expression (ECMA 262) for one line of text: none of the characters
/// `tsunagu_core::text::HIDDEN_RANGES` names, which the server refuses.
pub fn one_line_pattern() -> String {
    let ranges: String = tsunagu_core::text::HIDDEN_RANGES
        .iter()
        .map(|&(from, to)| {
            let escape = |c: char| format!("\\u{:04X}", u32::from(c));
            if from == to {
                escape(from)
            } else {
                format!("{}-{}", escape(from), escape(to))
            }
        })
        .collect();
    format!("^[^{ranges}]*$")
}

/// A search box's text: at most `crate::web::params::MAX_SEARCH_CHARS` characters of one
/// line.
pub fn search_text() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .max_length(Some(crate::web::params::MAX_SEARCH_CHARS))
        .pattern(Some(one_line_pattern()))
        .description(Some(
            "部分一致で探す文字（制御文字・見えない文字は使えません）",
        ))
        .build()
}
