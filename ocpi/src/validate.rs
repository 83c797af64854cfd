//! Validation of the field rules of the specification, reporting the JSON path of every fault.
//!
//! Deserialization is lenient (unknown members and unknown enum values are kept, over-long
//! strings are accepted) so that a partner that bends a rule can still be read; [`Validate`]
//! then says exactly which rules the value breaks. Outgoing objects should be validated
//! before they are sent.

use std::fmt;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON path of the offending value, e.g. `$.evses[0].connectors[1].id`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every broken rule of one value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} validation error(s), first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
pub struct ValidationErrors(pub Vec<ValidationError>);

#[derive(Debug, Clone)]
enum Seg {
    Field(&'static str),
    Index(usize),
}

/// Collects [`ValidationError`]s while walking a value; keeps track of the current JSON path.
#[derive(Debug, Default)]
pub struct Validator {
    path: Vec<Seg>,
    errors: Vec<ValidationError>,
    open_enums: Option<&'static [&'static str]>,
}

impl Validator {
    /// A fresh validator positioned at the root (`$`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The current JSON path.
    pub fn path(&self) -> String {
        let mut s = String::from("$");
        for seg in &self.path {
            match seg {
                Seg::Field(n) => {
                    s.push('.');
                    s.push_str(n);
                }
                Seg::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        s
    }

    /// Runs `f` with the path extended by member `name`.
    pub fn field(&mut self, name: &'static str, f: impl FnOnce(&mut Self)) {
        self.path.push(Seg::Field(name.trim_start_matches("r#")));
        f(self);
        self.path.pop();
    }

    /// Runs `f` with the path extended by array index `i`.
    pub fn index(&mut self, i: usize, f: impl FnOnce(&mut Self)) {
        self.path.push(Seg::Index(i));
        f(self);
        self.path.pop();
    }

    /// Records a fault at the current path.
    pub fn error(&mut self, message: impl Into<String>) {
        let path = self.path();
        self.errors.push(ValidationError {
            path,
            message: message.into(),
        });
    }

    /// Runs `f` with `open` (when given) as the `OpenEnum` types of the version being checked:
    /// values outside their list are then not faults (OCPI 2.3.0 `OpenEnum`).
    pub fn with_open_enums(
        &mut self,
        open: Option<&'static [&'static str]>,
        f: impl FnOnce(&mut Self),
    ) {
        match open {
            Some(list) => {
                let saved = self.open_enums.replace(list);
                f(self);
                self.open_enums = saved;
            }
            None => f(self),
        }
    }

    /// Whether the enum type `name` is an `OpenEnum` in the version being checked.
    pub fn is_open_enum(&self, name: &str) -> bool {
        self.open_enums.is_some_and(|l| l.contains(&name))
    }

    /// The faults found so far.
    pub fn errors(&self) -> &[ValidationError] {
        &self.errors
    }

    /// Ends the walk.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.errors))
        }
    }
}

/// A value whose specification rules can be checked.
pub trait Validate {
    /// Checks this value, recording faults in `v` at its current path.
    fn validate_into(&self, v: &mut Validator);

    /// Checks this value as a root object.
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut v = Validator::new();
        self.validate_into(&mut v);
        v.finish()
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, v: &mut Validator) {
        if let Some(x) = self {
            x.validate_into(v);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, v: &mut Validator) {
        for (i, x) in self.iter().enumerate() {
            v.index(i, |v| x.validate_into(v));
        }
    }
}

impl<T: Validate> Validate for Box<T> {
    fn validate_into(&self, v: &mut Validator) {
        (**self).validate_into(v);
    }
}

macro_rules! no_rules {
    ($($t:ty),*) => {$(
        impl Validate for $t {
            fn validate_into(&self, _v: &mut Validator) {}
        }
    )*};
}
no_rules!(bool, i32, i64, u8, u16, u32, u64, String, serde_json::Value, serde_json::Map<String, serde_json::Value>);

/// Rule helpers used by the generated `Validate` implementations.
pub mod rules {
    use super::Validator;

    /// Cardinality `+`: at least one item.
    pub fn non_empty<T>(list: &[T], v: &mut Validator) {
        if list.is_empty() {
            v.error("must contain at least one item");
        }
    }

    /// Cardinality `1` of a member that is read leniently: it must be present.
    pub fn required<T>(value: &Option<T>, v: &mut Validator) {
        if value.is_none() {
            v.error("required member is missing");
        }
    }

    /// No rule beyond those of the value's type.
    pub fn none<T: ?Sized>(_value: &T, _v: &mut Validator) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_formatting() {
        let mut v = Validator::new();
        v.field("evses", |v| {
            v.index(2, |v| v.field("r#type", |v| v.error("bad")))
        });
        assert_eq!(v.errors()[0].path, "$.evses[2].type");
        assert!(v.finish().is_err());
    }
}
