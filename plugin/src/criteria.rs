//! Validating criteria against a proof type's declaration, before anything is sent to Qualys.

use crate::error::Error;
use crate::model::{CriterionSpec, Kind, ProofSpec};
use crate::values;

/// Criteria that passed validation, normalised (canonical case, RFC 3339 timestamps,
/// comma-joined lists), with defaults filled in; in the proof type's declared order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Criteria {
    values: Vec<(&'static str, String)>,
}

impl Criteria {
    /// The value of a criterion (given or defaulted).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The items of a list criterion.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.get(name).map(|v| v.split(',').collect()).unwrap_or_default()
    }

    /// A boolean criterion.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(values::parse_bool)
    }

    /// A whole-number criterion within `range`, or `default` when not given; a value outside
    /// names the criterion and the range (with `unit`, e.g. "days").
    pub fn bounded(
        &self,
        name: &str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
        unit: &str,
    ) -> Result<i64, Error> {
        let Some(text) = self.get(name) else { return Ok(default) };
        match text.parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(Error::criteria(
                name,
                format!(
                    "{text} is out of range; use {} to {}{unit} (default {default})",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// All criteria as (name, value), in declared order.
    pub fn pairs(&self) -> &[(&'static str, String)] {
        &self.values
    }

    /// A stable text form, bound into cursors so a cursor resumes only the same query.
    pub fn canonical(&self) -> String {
        let parts: Vec<String> = self.values.iter().map(|(n, v)| format!("{n}={v}")).collect();
        parts.join("&")
    }
}

/// Checks every given criterion against the declaration; refuses unknown names, repeats, bad
/// values, and missing required ones, naming the criterion and what is allowed.
pub fn validate(spec: &ProofSpec, given: &[(String, String)]) -> Result<Criteria, Error> {
    // The given values by their criterion's place in the declaration, which is also their
    // order in the result.
    let mut by_place: Vec<Option<String>> = vec![None; spec.criteria.len()];
    for (name, value) in given {
        let name = name.trim();
        let Some(i) = spec.criteria.iter().position(|c| c.name == name) else {
            let known: Vec<&str> = spec.criteria.iter().map(|c| c.name).collect();
            return Err(Error::criteria(
                name,
                format!(
                    "proof type '{}' has no such criterion; it accepts: {}",
                    spec.id,
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
            ));
        };
        if by_place[i].is_some() {
            return Err(Error::criteria(name, "given more than once; give it once"));
        }
        by_place[i] = Some(normalise(&spec.criteria[i], value.trim())?);
    }
    let mut out = Criteria::default();
    for (c, value) in spec.criteria.iter().zip(by_place) {
        match (value, c.default, c.required) {
            (Some(v), _, _) => out.values.push((c.name, v)),
            (None, Some(d), _) => out.values.push((c.name, d.to_string())),
            (None, None, true) => {
                return Err(Error::criteria(c.name, format!("is required: {}", c.description)));
            }
            (None, None, false) => {}
        }
    }
    Ok(out)
}

fn normalise(c: &CriterionSpec, value: &str) -> Result<String, Error> {
    let allowed = |v: &str| -> Result<String, Error> {
        if c.allowed.is_empty() {
            return Ok(v.to_string());
        }
        c.allowed.iter().find(|a| a.eq_ignore_ascii_case(v)).map(|a| a.to_string()).ok_or_else(|| {
            Error::criteria(c.name, format!("{v:?} is not allowed; use one of: {}", c.allowed.join(", ")))
        })
    };
    if value.is_empty() {
        return Err(Error::criteria(c.name, format!("is empty; {}", c.description)));
    }
    match c.kind {
        Kind::Text => allowed(value),
        Kind::Integer => value
            .parse::<i64>()
            .map(|n| n.to_string())
            .map_err(|_| Error::criteria(c.name, format!("{value:?} is not a whole number"))),
        Kind::Boolean => values::parse_bool(value)
            .map(|b| b.to_string())
            .ok_or_else(|| Error::criteria(c.name, format!("{value:?} is not true or false"))),
        Kind::Timestamp => match values::timestamp(value) {
            Ok(Some(ts)) => Ok(ts),
            _ => Err(Error::criteria(
                c.name,
                format!("{value:?} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"),
            )),
        },
        Kind::TextList => {
            let mut items = Vec::new();
            for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let item = allowed(item)?;
                if !items.contains(&item) {
                    items.push(item);
                }
            }
            if items.is_empty() {
                return Err(Error::criteria(c.name, "lists no value"));
            }
            Ok(items.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CriterionSpec;

    static CRITERIA: &[CriterionSpec] = &[
        CriterionSpec {
            name: "states",
            kind: Kind::TextList,
            required: false,
            allowed: &["OPEN", "CLOSED"],
            default: None,
            description: "states",
        },
        CriterionSpec {
            name: "since",
            kind: Kind::Timestamp,
            required: false,
            allowed: &[],
            default: None,
            description: "since",
        },
        CriterionSpec {
            name: "agents",
            kind: Kind::Boolean,
            required: false,
            allowed: &[],
            default: Some("true"),
            description: "agents",
        },
    ];
    static SPEC: ProofSpec =
        ProofSpec { id: "t", title: "", description: "", fields: &[], criteria: CRITERIA, key: &[] };

    fn given(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn valid_criteria_are_normalised_and_defaults_filled() {
        let c = validate(&SPEC, &given(&[("since", "2024-01-02"), ("states", "open, Closed,open")])).unwrap();
        assert_eq!(c.get("states"), Some("OPEN,CLOSED"));
        assert_eq!(c.get("since"), Some("2024-01-02T00:00:00Z"));
        assert_eq!(c.flag("agents"), Some(true));
        assert_eq!(c.canonical(), "states=OPEN,CLOSED&since=2024-01-02T00:00:00Z&agents=true");
    }

    #[test]
    fn unknown_repeated_and_bad_values_name_the_criterion() {
        let cases: &[&[(&str, &str)]] = &[
            &[("colour", "red")],
            &[("states", "OPEN"), ("states", "CLOSED")],
            &[("states", "FIXED")],
            &[("since", "last week")],
            &[("agents", "maybe")],
            &[("states", " , ")],
        ];
        for case in cases {
            let err = validate(&SPEC, &given(case)).unwrap_err();
            let Error::InvalidCriteria { criterion, message } = err else { panic!("{case:?}") };
            assert_eq!(criterion, case[0].0);
            assert!(!message.is_empty());
        }
    }
}
