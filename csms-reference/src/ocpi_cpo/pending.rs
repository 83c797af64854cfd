//! Tokens given with START_SESSION and RESERVE_NOW that are not in the eMSP's token list: kept
//! until the session they announce starts (it then records its token), the station refuses
//! the command or does not answer, or they expire; at most [`CAPACITY`] at a time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How many command tokens are kept at most; a command that would need one more is refused.
pub const CAPACITY: usize = 10_000;

/// How long a START_SESSION token is kept after the station accepted the command: the
/// driver has this long to plug in (stations give up sooner: OCPP `ConnectionTimeOut`).
pub const START_TTL: Duration = Duration::from_secs(10 * 60);

/// The longest a RESERVE_NOW token is kept (until the reservation's expiry, at most this).
pub const RESERVATION_TTL_MAX: Duration = Duration::from_secs(24 * 3600);

/// Command tokens by uid (upper case), each with its expiry.
#[derive(Debug, Default)]
pub struct CommandTokens {
    tokens: HashMap<String, (Value, Instant)>,
}

impl CommandTokens {
    /// Keeps `token` for `uid` until `expires`; false (nothing kept) when [`CAPACITY`] tokens
    /// that have not expired are kept already.
    pub fn insert(&mut self, uid: &str, token: Value, expires: Instant, now: Instant) -> bool {
        let key = uid.to_ascii_uppercase();
        if self.tokens.len() >= CAPACITY && !self.tokens.contains_key(&key) {
            self.tokens.retain(|_, (_, e)| *e > now);
            if self.tokens.len() >= CAPACITY {
                return false;
            }
        }
        self.tokens.insert(key, (token, expires));
        true
    }

    /// The token of `uid` when it has not expired (an expired one is forgotten).
    pub fn get(&mut self, uid: &str, now: Instant) -> Option<Value> {
        let key = uid.to_ascii_uppercase();
        match self.tokens.get(&key) {
            Some((t, e)) if *e > now => Some(t.clone()),
            Some(_) => {
                self.tokens.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Changes when the token of `uid` expires.
    pub fn expire_at(&mut self, uid: &str, expires: Instant) {
        if let Some(t) = self.tokens.get_mut(&uid.to_ascii_uppercase()) {
            t.1 = expires;
        }
    }

    /// Forgets the token of `uid`.
    pub fn remove(&mut self, uid: &str) {
        self.tokens.remove(&uid.to_ascii_uppercase());
    }

    /// How many tokens are kept (expired ones not yet forgotten included).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether no token is kept.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn command_tokens_expire_and_are_bounded() {
        let t0 = Instant::now();
        let mut c = CommandTokens::default();
        assert!(c.insert(
            "abc",
            json!({"uid": "abc"}),
            t0 + Duration::from_secs(5),
            t0
        ));
        assert_eq!(c.get("ABC", t0), Some(json!({"uid": "abc"})));
        assert_eq!(c.get("abc", t0 + Duration::from_secs(5)), None, "expired");
        assert!(c.is_empty(), "an expired token is forgotten");
        for i in 0..CAPACITY {
            assert!(c.insert(&format!("u{i}"), json!(i), t0 + Duration::from_secs(1), t0));
        }
        assert!(
            !c.insert("one-more", json!(0), t0 + Duration::from_secs(1), t0),
            "full of live tokens: refused"
        );
        assert_eq!(c.len(), CAPACITY);
        // Once they expired, room is made.
        let later = t0 + Duration::from_secs(2);
        assert!(c.insert("one-more", json!(0), later + Duration::from_secs(1), later));
        assert_eq!(c.len(), 1);
        c.expire_at("one-more", later);
        assert_eq!(c.get("one-more", later), None);
    }
}
