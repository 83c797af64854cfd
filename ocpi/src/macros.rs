//! Internal macros.

/// Defines a string enum of the specification that keeps values it does not know.
///
/// Every enum gets an `Unknown(String)` variant: a value outside the list is read into it and
/// written back verbatim; [`crate::validate::Validate`] reports it.
macro_rules! ocpi_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $($variant:ident = $s:literal),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $(
                #[doc = concat!("`", $s, "`")]
                $variant,
            )*
            /// A value this version of the specification does not define, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// Every value the specification defines, in its order.
            pub const VALUES: &'static [&'static str] = &[$($s),*];

            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $s,)*
                    Self::Unknown(s) => s,
                }
            }

            /// Reads a value; one outside the list becomes `Unknown`.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $($s => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// Whether the value is outside the list of the specification.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    Self::Unknown(s) => write!(f, "Unknown({s:?})"),
                    other => f.write_str(other.as_str()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({"type": "string", "enum": [$($s),*]})
            }
        }

        impl $crate::validate::Validate for $name {
            fn validate_into(&self, v: &mut $crate::validate::Validator) {
                if let Self::Unknown(s) = self {
                    if !v.is_open_enum(stringify!($name)) {
                        v.error(format!("{s:?} is not a value of {}", stringify!($name)));
                    }
                }
            }
        }
    };
}
pub(crate) use ocpi_enum;

/// Defines an object of the specification from its property table.
///
/// Each property is written `name: Type [card]` with the card of the specification: `[1]` a
/// required value, `[?]` an optional one (`Option`), `[*]` a list that may be absent or empty
/// (`Vec`, omitted when empty), `[+]` a required non-empty list (`Vec`, validated), `[!]` a required value that
/// peers are known to omit (`Option`, reported by validation when absent), `[+!]` a required
/// non-empty list that peers are known to omit (`Vec`, absent reads as empty, validated). Members
/// the type does not know are kept in `extra` and written back.
///
/// A leading `#[open_enums = PATH]` names the list of `OpenEnum` types of the object's version
/// (PATH: `&'static [&'static str]`): their unknown values are then not reported by validation
/// anywhere inside the object.
macro_rules! ocpi_object {
    (
        #[open_enums = $open:path]
        $(#[$m:meta])*
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::macros::ocpi_object!(@acc [$(#[$m])*] (Some($open)) $name [] [] $($body)*);
    };
    (
        $(#[$m:meta])*
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::macros::ocpi_object!(@acc [$(#[$m])*] (None) $name [] [] $($body)*);
    };
    (@acc [$($m:tt)*] $o:tt $name:ident [$($fields:tt)*] [$(($f:ident $rule:ident))*]) => {
        $($m)*
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
        pub struct $name {
            $($fields)*
            /// Members this crate does not know, kept and written back.
            #[serde(flatten)]
            pub extra: $crate::primitives::Extra,
        }

        impl $crate::validate::Validate for $name {
            fn validate_into(&self, v: &mut $crate::validate::Validator) {
                v.with_open_enums($o, |v| {
                    $(
                        v.field(stringify!($f), |v| {
                            $crate::validate::rules::$rule(&self.$f, v);
                            $crate::validate::Validate::validate_into(&self.$f, v);
                        });
                    )*
                    let _ = v;
                });
            }
        }
    };
    (@acc $m:tt $o:tt $name:ident [$($fields:tt)*] [$($checks:tt)*]
        $(#[doc = $d:literal])* $f:ident : $t:ty [1] $(, $($rest:tt)*)?) => {
        $crate::macros::ocpi_object!(@acc $m $o $name
            [$($fields)* $(#[doc = $d])* pub $f: $t,]
            [$($checks)* ($f none)] $($($rest)*)?);
    };
    (@acc $m:tt $o:tt $name:ident [$($fields:tt)*] [$($checks:tt)*]
        $(#[doc = $d:literal])* $f:ident : $t:ty [?] $(, $($rest:tt)*)?) => {
        $crate::macros::ocpi_object!(@acc $m $o $name
            [$($fields)* $(#[doc = $d])* #[serde(default, skip_serializing_if = "Option::is_none")] pub $f: Option<$t>,]
            [$($checks)* ($f none)] $($($rest)*)?);
    };
    (@acc $m:tt $o:tt $name:ident [$($fields:tt)*] [$($checks:tt)*]
        $(#[doc = $d:literal])* $f:ident : $t:ty [!] $(, $($rest:tt)*)?) => {
        $crate::macros::ocpi_object!(@acc $m $o $name
            [$($fields)* $(#[doc = $d])*
             #[doc = ""]
             #[doc = "Required by the specification; tolerated absent on read (validation reports it)."]
             #[serde(default, skip_serializing_if = "Option::is_none")] pub $f: Option<$t>,]
            [$($checks)* ($f required)] $($($rest)*)?);
    };
    (@acc $m:tt $o:tt $name:ident [$($fields:tt)*] [$($checks:tt)*]
        $(#[doc = $d:literal])* $f:ident : $t:ty [*] $(, $($rest:tt)*)?) => {
        $crate::macros::ocpi_object!(@acc $m $o $name
            [$($fields)* $(#[doc = $d])* #[serde(default, skip_serializing_if = "Vec::is_empty")] pub $f: Vec<$t>,]
            [$($checks)* ($f none)] $($($rest)*)?);
    };
    (@acc $m:tt $o:tt $name:ident [$($fields:tt)*] [$($checks:tt)*]
        $(#[doc = $d:literal])* $f:ident : $t:ty [+!] $(, $($rest:tt)*)?) => {
        $crate::macros::ocpi_object!(@acc $m $o $name
            [$($fields)* $(#[doc = $d])*
             #[doc = ""]
             #[doc = "Required and non-empty by the specification; tolerated absent on read (validation reports it)."]
             #[serde(default, skip_serializing_if = "Vec::is_empty")] pub $f: Vec<$t>,]
            [$($checks)* ($f non_empty)] $($($rest)*)?);
    };
    (@acc $m:tt $o:tt $name:ident [$($fields:tt)*] [$($checks:tt)*]
        $(#[doc = $d:literal])* $f:ident : $t:ty [+] $(, $($rest:tt)*)?) => {
        $crate::macros::ocpi_object!(@acc $m $o $name
            [$($fields)* $(#[doc = $d])* pub $f: Vec<$t>,]
            [$($checks)* ($f non_empty)] $($($rest)*)?);
    };
}
pub(crate) use ocpi_object;
