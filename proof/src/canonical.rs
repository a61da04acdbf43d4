//! The canonical JSON of a proof's statement: RFC 8785 (JSON Canonicalization Scheme) for the
//! documents proofs hold, which have no fractional numbers.
//!
//! - no whitespace;
//! - object members sorted by their names' UTF-16 code units (for the ASCII names proofs use,
//!   byte order);
//! - strings as JSON.stringify writes them: `"` and `\` escaped, U+0008, U+0009, U+000A,
//!   U+000C and U+000D as `\b \t \n \f \r`, other control characters as `\u00xx` (lower-case
//!   hex), everything else (non-ASCII included) as UTF-8, unescaped;
//! - integers in decimal; a number with a fraction or exponent is refused (none occurs in a
//!   proof's metadata, and its canonical form would need ECMAScript's number formatting).
//!
//! serde_json writes strings exactly that way, so each string goes through it.

use serde_json::Value;

/// Appends the canonical JSON of `value` to `out`.
pub fn write(value: &Value, out: &mut Vec<u8>) -> anyhow::Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                anyhow::bail!(
                    "the number {n} is not a whole number; proof metadata holds only whole numbers"
                );
            }
        }
        Value::String(s) => serde_json::to_writer(&mut *out, s)?,
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (name, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, name)?;
                out.push(b':');
                write(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// The canonical JSON of `value`.
pub fn to_vec(value: &Value) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    write(value, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn members_are_sorted_whitespace_dropped_and_strings_escaped_as_json_stringify_does() {
        let v = json!({"b": [1, true, null], "a": {"z": "\u{1}\t\"é/€", "y": -7}, "A": ""});
        let text = String::from_utf8(to_vec(&v).unwrap()).unwrap();
        assert_eq!(text, "{\"A\":\"\",\"a\":{\"y\":-7,\"z\":\"\\u0001\\t\\\"é/€\"},\"b\":[1,true,null]}");
    }

    #[test]
    fn names_sort_by_utf16_code_units_not_by_code_points() {
        // U+FB01 sorts after U+1F600 by code point, before it by UTF-16 code unit (RFC 8785 3.2.3).
        let v = json!({"\u{fb01}": 1, "\u{1f600}": 2});
        let text = String::from_utf8(to_vec(&v).unwrap()).unwrap();
        assert_eq!(text, "{\"\u{1f600}\":2,\"\u{fb01}\":1}");
    }

    #[test]
    fn fractional_numbers_are_refused() {
        assert!(to_vec(&json!({"x": 1.5})).is_err());
    }
}
