//! The credentials handshake as a state machine (`credentials.asciidoc`), without I/O.
//!
//! Terms, from the point of view of the platform that issues `CREDENTIALS_TOKEN_A` (the
//! *receiver* of the handshake, e.g. a CPO) and its peer (the *sender*, e.g. an eMSP):
//! - `TOKEN_A` is issued out of band ([`Registry::issue_token_a`]); the peer may use it only on
//!   the versions endpoints and the credentials module ([`Scope`]); anywhere else it is refused
//!   with HTTP 401.
//! - Registration: the peer POSTs its credentials (with `TOKEN_B`, the token we use to call it);
//!   we fetch its versions and endpoints with `TOKEN_B`, then answer with our credentials holding
//!   a fresh `TOKEN_C` ([`Registry::register`]). A second POST is refused with 405.
//! - Update: PUT, allowed only once registered (405 before), issues a new `TOKEN_C`
//!   ([`Registry::update`]).
//! - Unregistration: DELETE, allowed only once registered (405 before) ([`Registry::unregister`]).
//!
//! Tokens the peer presents to us (`TOKEN_A`, `TOKEN_C`) are stored as SHA-256 hashes; the token
//! we present to the peer (`TOKEN_B`) has to be stored as is, since we must send it.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::transport::OcpiError;
use crate::v221::{CredentialsRole, Endpoint, VersionNumber};

/// SHA-256 of a token, hex encoded.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new random credentials token (64 hex characters, 256 bits).
///
/// The randomness comes from the standard library's randomly keyed SipHash
/// (`std::collections::hash_map::RandomState`, seeded from the operating system), mixed with
/// the time and a counter through SHA-256.
pub fn generate_token() -> String {
    let mut h = Sha256::new();
    for i in 0..4u64 {
        let mut s = std::collections::hash_map::RandomState::new().build_hasher();
        s.write_u64(i);
        s.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.update(s.finish().to_le_bytes());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    h.update(now.to_le_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a request goes, for the token rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The versions and version details endpoints.
    Versions,
    /// The credentials module.
    Credentials,
    /// Any functional module.
    Module,
}

/// The state of a peer.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerState {
    /// `TOKEN_A` issued; not registered yet.
    Pending,
    /// Registered.
    Registered(Registration),
    /// Unregistered (DELETE); no token is valid any more.
    Unregistered,
}

/// What we know of a registered peer.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// The negotiated version.
    pub version: VersionNumber,
    /// `TOKEN_B`: the token we use to call the peer.
    pub token_b: String,
    /// The peer's versions URL.
    pub versions_url: String,
    /// The peer's endpoints of the negotiated version.
    pub endpoints: Vec<Endpoint>,
    /// The peer's roles.
    pub roles: Vec<CredentialsRole>,
}

/// A peer and its tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    /// Local id of the peer.
    pub id: u64,
    /// Hash of the token the peer currently uses to call us (`TOKEN_A`, then `TOKEN_C`).
    pub token_hash: String,
    /// State of the handshake.
    pub state: PeerState,
}

/// Who is calling, after authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// Id of the peer.
    pub peer: u64,
    /// Whether the peer is registered (it used `TOKEN_C`).
    pub registered: bool,
}

/// The peers of a platform and their handshake states.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    peers: HashMap<u64, Peer>,
    by_hash: HashMap<String, u64>,
    next: u64,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Issues a `TOKEN_A` for a new peer; returns the peer id and the token (hand it over out
    /// of band; only its hash is kept).
    pub fn issue_token_a(&mut self) -> (u64, String) {
        let token = generate_token();
        let id = self.add_peer_with_token_a(&token);
        (id, token)
    }

    /// Adds a peer with a `TOKEN_A` chosen by the operator.
    pub fn add_peer_with_token_a(&mut self, token_a: &str) -> u64 {
        self.next += 1;
        let id = self.next;
        let token_hash = hash_token(token_a);
        self.by_hash.insert(token_hash.clone(), id);
        self.peers.insert(
            id,
            Peer {
                id,
                token_hash,
                state: PeerState::Pending,
            },
        );
        id
    }

    /// Adds a peer that is registered already, e.g. on the initiating side, where the peer will
    /// call us with the `TOKEN_B` we gave it.
    pub fn add_registered_peer(&mut self, token: &str, registration: Registration) -> u64 {
        let id = self.add_peer_with_token_a(token);
        if let Some(p) = self.peers.get_mut(&id) {
            p.state = PeerState::Registered(registration);
        }
        id
    }

    /// A peer by id.
    pub fn peer(&self, id: u64) -> Option<&Peer> {
        self.peers.get(&id)
    }

    /// Every peer, in no particular order (to persist the registry).
    pub fn peers(&self) -> impl Iterator<Item = &Peer> {
        self.peers.values()
    }

    /// Puts back a peer read from persistent storage (its id, token hash and state as
    /// [`Registry::peers`] gave them), replacing one with the same id; later peers get higher
    /// ids. An unregistered peer's hash authenticates nothing.
    pub fn restore_peer(&mut self, peer: Peer) {
        if let Some(old) = self.peers.remove(&peer.id) {
            self.by_hash.remove(&old.token_hash);
        }
        if peer.state != PeerState::Unregistered {
            self.by_hash.insert(peer.token_hash.clone(), peer.id);
        }
        self.next = self.next.max(peer.id);
        self.peers.insert(peer.id, peer);
    }

    /// Checks a credentials token for a request to `scope` (the transport rules): unknown token
    /// → 401; `TOKEN_A` of a pending peer outside versions/credentials → 401.
    pub fn authenticate(&self, token: &str, scope: Scope) -> Result<Caller, OcpiError> {
        let id = self
            .by_hash
            .get(&hash_token(token))
            .ok_or_else(|| OcpiError::unauthorized("unknown credentials token"))?;
        let peer = &self.peers[id];
        match (&peer.state, scope) {
            (PeerState::Unregistered, _) => {
                Err(OcpiError::unauthorized("credentials token revoked"))
            }
            (PeerState::Pending, Scope::Module) => Err(OcpiError::unauthorized(
                "CREDENTIALS_TOKEN_A may only be used on the versions and credentials endpoints",
            )),
            (PeerState::Pending, _) => Ok(Caller {
                peer: *id,
                registered: false,
            }),
            (PeerState::Registered(_), _) => Ok(Caller {
                peer: *id,
                registered: true,
            }),
        }
    }

    /// Checks whether a POST (registration) is allowed: 405 when already registered.
    pub fn check_register(&self, caller: &Caller) -> Result<(), OcpiError> {
        if caller.registered {
            Err(OcpiError::method_not_allowed(
                "already registered: use PUT to update",
            ))
        } else {
            Ok(())
        }
    }

    /// Checks whether a PUT or DELETE is allowed: 405 when not registered.
    pub fn check_registered(&self, caller: &Caller) -> Result<(), OcpiError> {
        if caller.registered {
            Ok(())
        } else {
            Err(OcpiError::method_not_allowed(
                "not registered yet: use POST",
            ))
        }
    }

    fn set_token(&mut self, peer: u64, token: &str) {
        let h = hash_token(token);
        if let Some(p) = self.peers.get_mut(&peer) {
            self.by_hash.remove(&p.token_hash);
            p.token_hash = h.clone();
            self.by_hash.insert(h, peer);
        }
    }

    /// Completes a registration (after the peer's endpoints were fetched with `TOKEN_B`):
    /// `TOKEN_A` is thrown away and a new `TOKEN_C` returned.
    pub fn register(
        &mut self,
        caller: &Caller,
        registration: Registration,
    ) -> Result<String, OcpiError> {
        self.check_register(caller)?;
        // The caller was authenticated before the peer's endpoints were fetched: another
        // request may have registered (or revoked) the peer meanwhile.
        match self.peers.get(&caller.peer).map(|p| &p.state) {
            Some(PeerState::Pending) => {}
            Some(PeerState::Registered(_)) => {
                return Err(OcpiError::method_not_allowed(
                    "already registered: use PUT to update",
                ))
            }
            _ => return Err(OcpiError::unauthorized("credentials token revoked")),
        }
        let token_c = generate_token();
        self.set_token(caller.peer, &token_c);
        if let Some(p) = self.peers.get_mut(&caller.peer) {
            p.state = PeerState::Registered(registration);
        }
        Ok(token_c)
    }

    /// Completes an update (PUT): new registration data and a new `TOKEN_C`.
    pub fn update(
        &mut self,
        caller: &Caller,
        registration: Registration,
    ) -> Result<String, OcpiError> {
        self.check_registered(caller)?;
        // An unregistration (DELETE) that ended while this update fetched the peer's
        // endpoints stays in force: the peer is not brought back.
        if !matches!(
            self.peers.get(&caller.peer).map(|p| &p.state),
            Some(PeerState::Registered(_))
        ) {
            return Err(OcpiError::unauthorized("credentials token revoked"));
        }
        let token_c = generate_token();
        self.set_token(caller.peer, &token_c);
        if let Some(p) = self.peers.get_mut(&caller.peer) {
            p.state = PeerState::Registered(registration);
        }
        Ok(token_c)
    }

    /// Unregisters (DELETE): every token of the peer stops working.
    pub fn unregister(&mut self, caller: &Caller) -> Result<(), OcpiError> {
        self.check_registered(caller)?;
        if let Some(p) = self.peers.get_mut(&caller.peer) {
            self.by_hash.remove(&p.token_hash);
            p.state = PeerState::Unregistered;
        }
        Ok(())
    }
}

/// The initiating side of the handshake (the party that received `TOKEN_A`), as a typed state
/// machine: each step consumes the previous state.
pub mod initiator {
    use crate::v221::{Credentials, Endpoint, Version, VersionDetails, VersionNumber};

    /// Error of a handshake step.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    #[non_exhaustive]
    pub enum HandshakeError {
        /// No version both parties support.
        #[error("no mutual version: peer offers {0:?}")]
        NoMutualVersion(Vec<String>),
        /// The peer lacks the credentials endpoint.
        #[error("the peer has no credentials endpoint")]
        NoCredentialsEndpoint,
    }

    /// Step 1: we hold `TOKEN_A` and the peer's versions URL.
    #[derive(Debug, Clone)]
    pub struct Start {
        /// `TOKEN_A`.
        pub token_a: String,
        /// The peer's versions URL.
        pub versions_url: String,
    }

    /// Step 2: a version was chosen.
    #[derive(Debug, Clone)]
    pub struct VersionChosen {
        /// `TOKEN_A`.
        pub token_a: String,
        /// The chosen version.
        pub version: Version,
    }

    /// Step 3: the endpoints of the version are known; ready to POST our credentials.
    #[derive(Debug, Clone)]
    pub struct EndpointsKnown {
        /// `TOKEN_A`.
        pub token_a: String,
        /// The version.
        pub version: VersionNumber,
        /// The peer's endpoints.
        pub endpoints: Vec<Endpoint>,
        /// The peer's credentials URL.
        pub credentials_url: String,
    }

    /// Step 4: registered; `TOKEN_C` is the token to use from now on.
    #[derive(Debug, Clone)]
    pub struct Registered {
        /// `TOKEN_C`.
        pub token_c: String,
        /// The version.
        pub version: VersionNumber,
        /// The peer's endpoints.
        pub endpoints: Vec<Endpoint>,
        /// The peer's credentials (roles, business details).
        pub peer: Credentials,
    }

    impl Start {
        /// Chooses the highest version of `ours` that the peer offers.
        pub fn choose_version(
            self,
            offered: &[Version],
            ours: &[VersionNumber],
        ) -> Result<VersionChosen, HandshakeError> {
            let best = ours
                .iter()
                .rev()
                .find_map(|v| offered.iter().find(|o| &o.version == v))
                .cloned()
                .ok_or_else(|| {
                    HandshakeError::NoMutualVersion(
                        offered.iter().map(|o| o.version.to_string()).collect(),
                    )
                })?;
            Ok(VersionChosen {
                token_a: self.token_a,
                version: best,
            })
        }
    }

    impl VersionChosen {
        /// Takes the version details.
        pub fn endpoints(self, details: VersionDetails) -> Result<EndpointsKnown, HandshakeError> {
            let credentials_url = details
                .endpoints
                .iter()
                .find(|e| e.identifier == crate::v221::ModuleId::Credentials)
                .map(|e| e.url.0.clone())
                .ok_or(HandshakeError::NoCredentialsEndpoint)?;
            Ok(EndpointsKnown {
                token_a: self.token_a,
                version: details.version,
                endpoints: details.endpoints,
                credentials_url,
            })
        }
    }

    impl EndpointsKnown {
        /// Takes the peer's answer to our POST.
        pub fn registered(self, answer: Credentials) -> Registered {
            Registered {
                token_c: answer.token.0.clone(),
                version: self.version,
                endpoints: self.endpoints,
                peer: answer,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Registration {
        Registration {
            version: VersionNumber::V2_2_1,
            token_b: "b".into(),
            versions_url: "http://127.0.0.1/versions".into(),
            endpoints: vec![],
            roles: vec![],
        }
    }

    #[test]
    fn peers_restore_by_hash() {
        let mut r = Registry::new();
        let (id, token_a) = r.issue_token_a();
        let caller = r.authenticate(&token_a, Scope::Credentials).unwrap();
        let token_c = r.register(&caller, reg()).unwrap();
        let saved: Vec<Peer> = r.peers().cloned().collect();
        let mut back = Registry::new();
        for p in saved {
            back.restore_peer(p);
        }
        assert_eq!(back.authenticate(&token_c, Scope::Module).unwrap().peer, id);
        assert!(back.authenticate(&token_a, Scope::Versions).is_err());
        // new peers do not reuse a restored id
        assert!(back.issue_token_a().0 > id);
    }

    #[test]
    fn concurrent_handshakes_do_not_undo_each_other() {
        // Two POSTs authenticated with the same TOKEN_A before either completed: the
        // second does not issue another TOKEN_C (which would silently revoke the first).
        let mut r = Registry::new();
        let (_, token_a) = r.issue_token_a();
        let first = r.authenticate(&token_a, Scope::Credentials).unwrap();
        let second = r.authenticate(&token_a, Scope::Credentials).unwrap();
        let token_c = r.register(&first, reg()).unwrap();
        assert_eq!(r.register(&second, reg()).unwrap_err().http_status, 405);
        assert!(r.authenticate(&token_c, Scope::Module).is_ok());
        // A PUT authenticated before a DELETE completed does not bring the peer back.
        let put = r.authenticate(&token_c, Scope::Credentials).unwrap();
        let delete = r.authenticate(&token_c, Scope::Credentials).unwrap();
        r.unregister(&delete).unwrap();
        assert_eq!(r.update(&put, reg()).unwrap_err().http_status, 401);
        assert!(matches!(
            r.peer(put.peer).unwrap().state,
            PeerState::Unregistered
        ));
    }

    #[test]
    fn handshake_rules() {
        let mut r = Registry::new();
        let (_, token_a) = r.issue_token_a();
        assert_eq!(token_a.len(), 64);
        assert_ne!(token_a, r.issue_token_a().1);
        // TOKEN_A: versions and credentials yes, modules no (401)
        let caller = r.authenticate(&token_a, Scope::Versions).unwrap();
        assert!(!caller.registered);
        assert_eq!(
            r.authenticate(&token_a, Scope::Module)
                .unwrap_err()
                .http_status,
            401
        );
        assert_eq!(
            r.authenticate("nope", Scope::Versions)
                .unwrap_err()
                .http_status,
            401
        );
        // PUT/DELETE before registration: 405
        assert_eq!(r.update(&caller, reg()).unwrap_err().http_status, 405);
        assert_eq!(r.unregister(&caller).unwrap_err().http_status, 405);
        let token_c = r.register(&caller, reg()).unwrap();
        // TOKEN_A is gone, TOKEN_C works everywhere
        assert!(r.authenticate(&token_a, Scope::Credentials).is_err());
        let caller = r.authenticate(&token_c, Scope::Module).unwrap();
        assert!(caller.registered);
        // POST again: 405
        assert_eq!(r.register(&caller, reg()).unwrap_err().http_status, 405);
        // the registry keeps hashes only
        let peer = r.peer(caller.peer).unwrap();
        assert_eq!(peer.token_hash, hash_token(&token_c));
        assert!(!format!("{:?}", r).contains(&token_c));
        let token_c2 = r.update(&caller, reg()).unwrap();
        assert!(r.authenticate(&token_c, Scope::Module).is_err());
        let caller = r.authenticate(&token_c2, Scope::Module).unwrap();
        r.unregister(&caller).unwrap();
        assert_eq!(
            r.authenticate(&token_c2, Scope::Module)
                .unwrap_err()
                .http_status,
            401
        );
    }
}
