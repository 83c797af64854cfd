//! [`Text`]: the string type of every string member of the generated messages.
//!
//! Most OCPP strings are short (identifiers bounded at 20, 25, 36 or 50 characters, units, names,
//! vendor ids), so a `Text` of up to 24 bytes is stored inline, without a heap allocation;
//! longer ones live on the heap as a `String` would. It dereferences to `&str`, so it reads like
//! one, and converts from and to `&str` and `String`.
//!
//! ```
//! use ocpp_types::Text;
//!
//! let t = Text::from("04A2B3C4D5E6F7");
//! assert_eq!(t, "04A2B3C4D5E6F7");
//! assert_eq!(t.len(), 14);
//! assert!(t.starts_with("04"));
//! let s: String = t.into();
//! assert_eq!(s, "04A2B3C4D5E6F7");
//! ```

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use compact_str::CompactString;

/// An immutable string, stored inline when it is at most 24 bytes long.
///
/// Compares, orders and hashes exactly as the `str` it holds, so a `HashMap<Text, _>` can be
/// looked up by `&str`.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(CompactString);

impl Text {
    /// The longest string, in bytes, kept without a heap allocation.
    pub const INLINE_CAPACITY: usize = 24;

    /// A `Text` holding a copy of `s`.
    #[inline]
    pub fn new(s: &str) -> Self {
        Text(CompactString::new(s))
    }

    /// The empty string.
    pub const fn empty() -> Self {
        Text(CompactString::const_new(""))
    }

    /// A `Text` for a string known at compile time; never allocates.
    pub const fn from_static(s: &'static str) -> Self {
        Text(CompactString::const_new(s))
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Converts into a `String` (allocating only when the text is stored inline).
    pub fn into_string(self) -> String {
        self.0.into_string()
    }

    /// Whether the text is stored on the heap (it is longer than [`Text::INLINE_CAPACITY`]).
    pub fn is_heap_allocated(&self) -> bool {
        self.0.is_heap_allocated()
    }
}

impl Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Text {
    #[inline]
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<[u8]> for Text {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Borrow<str> for Text {
    #[inline]
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Text {
    #[inline]
    fn from(s: &str) -> Self {
        Text::new(s)
    }
}

impl From<&mut str> for Text {
    fn from(s: &mut str) -> Self {
        Text::new(s)
    }
}

impl From<String> for Text {
    /// Reuses the `String`'s buffer when the text is too long to be stored inline.
    fn from(s: String) -> Self {
        Text(CompactString::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text::new(s)
    }
}

impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Self {
        Text(CompactString::from(s))
    }
}

impl<'a> From<Cow<'a, str>> for Text {
    fn from(s: Cow<'a, str>) -> Self {
        match s {
            Cow::Borrowed(s) => Text::new(s),
            Cow::Owned(s) => Text::from(s),
        }
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.into_string()
    }
}

impl From<&Text> for String {
    fn from(t: &Text) -> Self {
        t.as_str().to_owned()
    }
}

impl From<Text> for Box<str> {
    fn from(t: Text) -> Self {
        t.into_string().into_boxed_str()
    }
}

impl<'a> From<&'a Text> for Cow<'a, str> {
    fn from(t: &'a Text) -> Self {
        Cow::Borrowed(t.as_str())
    }
}

impl FromStr for Text {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Text::new(s))
    }
}

impl FromIterator<char> for Text {
    fn from_iter<I: IntoIterator<Item = char>>(iter: I) -> Self {
        Text(CompactString::from_iter(iter))
    }
}

impl<'a> FromIterator<&'a str> for Text {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        Text(CompactString::from_iter(iter))
    }
}

macro_rules! eq_str {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Text {
            #[inline]
            fn eq(&self, other: &$t) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Text> for $t {
            #[inline]
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_str!(str, &str, String, &String, Box<str>);

impl<'a> PartialEq<Cow<'a, str>> for Text {
    fn eq(&self, other: &Cow<'a, str>) -> bool {
        self.as_str() == &**other
    }
}

impl<'a> PartialEq<Text> for Cow<'a, str> {
    fn eq(&self, other: &Text) -> bool {
        &**self == other.as_str()
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::new(v))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn short_texts_are_inline_and_long_ones_on_the_heap() {
        let short = Text::from("ACME Charging GmbH 12345");
        assert_eq!(short.len(), Text::INLINE_CAPACITY);
        assert!(!short.is_heap_allocated());
        let long = Text::from("b7f0c3e2-5d6a-4f1b-8e9c-0a1b2c3d4e5f");
        assert!(long.is_heap_allocated());
        assert_eq!(long, "b7f0c3e2-5d6a-4f1b-8e9c-0a1b2c3d4e5f");
        assert_eq!(Text::from(String::from("é€😀")), "é€😀");
    }

    #[test]
    fn compares_hashes_and_converts_like_str() {
        let t = Text::from("Wallbox");
        assert_eq!(t, "Wallbox");
        assert_eq!("Wallbox", t);
        assert_eq!(t, String::from("Wallbox"));
        assert_eq!(String::from("Wallbox"), t);
        let (a, b) = (Text::from("a"), Text::from("b"));
        assert!(a < b);
        let mut m = HashMap::new();
        m.insert(t.clone(), 1);
        assert_eq!(m.get("Wallbox"), Some(&1));
        assert_eq!(t.to_string(), "Wallbox");
        assert_eq!(format!("{t:?}"), "\"Wallbox\"");
        assert_eq!(String::from(t), "Wallbox");
        assert_eq!(Text::default(), "");
        assert_eq!(Text::from_static("x"), "x");
    }

    #[test]
    fn serde_reads_and_writes_a_json_string() {
        let t: Text = serde_json::from_str(r#""a\"b""#).unwrap();
        assert_eq!(t, "a\"b");
        assert_eq!(serde_json::to_string(&t).unwrap(), r#""a\"b""#);
        assert!(serde_json::from_str::<Text>("1").is_err());
    }
}
