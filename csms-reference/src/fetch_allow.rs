//! Which URLs the CSMS may fetch (`[security] fetch_allow`).
//!
//! Stations: the CSMS never fetches a URL a station supplies. Firmware and log locations,
//! OCSP responder URLs, network profiles and the like are forwarded to stations or stored,
//! never requested; the OCPP side of this crate has no HTTP client at all
//! (`tests/fetch_allow.rs` sends such URLs and checks that nothing connects).
//!
//! OCPI partners: the bridge ([`crate::ocpi_cpo`]) does call URLs a partner supplies (its
//! versions URL in the credentials handshake, the endpoints it lists, the `response_url` of a
//! command). Every such request passes the policy set here (through
//! [`ocpi::client::set_fetch_policy`]) before any connection:
//!
//! - `fetch_allow` set: only hosts matching an entry are called. Entries are host names
//!   (`emsp.example.com`, case-insensitive), suffix patterns (`*.example.com`), IP addresses
//!   and CIDR ranges (`203.0.113.0/24`, `2001:db8::/32`, matched against every address the
//!   host resolves to), or `*` (anything).
//! - not set, `[ocpi] listen` on a loopback address (a development setup with partners on the
//!   same machine): anything.
//! - not set otherwise: anything except hosts that are, or resolve to, loopback, private
//!   (RFC 1918, unique-local), link-local, shared (100.64.0.0/10), unspecified, broadcast or
//!   multicast addresses, and `localhost` names.
//!
//! A refused push stays queued (it is retried like an unreachable partner, in order) and shows
//! `URL not allowed` as its last error; a refused handshake fails with OCPI status 3001.

use std::net::IpAddr;

/// One `fetch_allow` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Any,
    Host(String),
    Suffix(String),
    Net(IpAddr, u8),
}

/// The fetch policy of OCPI partner URLs (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchAllow {
    /// `None`: no allow-list (the default rule).
    entries: Option<Vec<Entry>>,
    /// Without an allow-list: allow internal addresses too (loopback development setups).
    permissive: bool,
}

fn bits(a: IpAddr) -> (u128, u8) {
    match a {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    }
}

fn in_net(a: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let a = match (a, net) {
        (IpAddr::V6(v6), IpAddr::V4(_)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        _ => a,
    };
    let ((x, w), (n, nw)) = (bits(a), bits(net));
    if w != nw {
        return false;
    }
    let shift = u32::from(w - prefix.min(w));
    shift >= 128 || (x >> shift) == (n >> shift)
}

/// Whether an address is internal: loopback, private, link-local, shared, unspecified,
/// broadcast, multicast (IPv4-mapped IPv6 addresses as their IPv4 address).
pub fn is_internal(a: IpAddr) -> bool {
    const NETS: [(&str, u8); 14] = [
        ("0.0.0.0", 8),
        ("10.0.0.0", 8),
        ("100.64.0.0", 10),
        ("127.0.0.0", 8),
        ("169.254.0.0", 16),
        ("172.16.0.0", 12),
        ("192.168.0.0", 16),
        ("224.0.0.0", 4),
        ("255.255.255.255", 32),
        ("::", 128),
        ("::1", 128),
        ("fc00::", 7),
        ("fe80::", 10),
        ("ff00::", 8),
    ];
    NETS.iter()
        .any(|(n, p)| n.parse::<IpAddr>().is_ok_and(|net| in_net(a, net, *p)))
}

impl FetchAllow {
    /// The policy for `fetch_allow` (`None`: not set) and whether the OCPI bridge listens on
    /// loopback. `Err` names an entry that is none of the accepted forms.
    pub fn new(fetch_allow: Option<&[String]>, loopback_setup: bool) -> Result<Self, String> {
        let entries = match fetch_allow {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|e| Self::entry(e))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(FetchAllow {
            entries,
            permissive: loopback_setup,
        })
    }

    fn entry(e: &str) -> Result<Entry, String> {
        let e = e.trim();
        if e == "*" {
            return Ok(Entry::Any);
        }
        if let Some((net, prefix)) = e.split_once('/') {
            let net: IpAddr = net
                .parse()
                .map_err(|_| format!("{e:?}: not an address/prefix"))?;
            let prefix: u8 = prefix.parse().map_err(|_| format!("{e:?}: bad prefix"))?;
            if prefix > bits(net).1 {
                return Err(format!("{e:?}: prefix too long"));
            }
            return Ok(Entry::Net(net, prefix));
        }
        if let Ok(a) = e.parse::<IpAddr>() {
            return Ok(Entry::Net(a, bits(a).1));
        }
        let valid = |h: &str| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        };
        if let Some(s) = e.strip_prefix("*.") {
            if valid(s) {
                return Ok(Entry::Suffix(format!(".{}", s.to_ascii_lowercase())));
            }
        } else if valid(e) {
            return Ok(Entry::Host(e.to_ascii_lowercase()));
        }
        Err(format!(
            "{e:?} is not a host name, *.suffix, IP address, CIDR range or *"
        ))
    }

    /// Whether a URL whose host is `host` (resolving to `addrs`) may be fetched.
    pub fn check(&self, host: &str, addrs: &[IpAddr]) -> Result<(), String> {
        let host = host.to_ascii_lowercase();
        match &self.entries {
            Some(entries) => {
                let ok = entries.iter().any(|e| match e {
                    Entry::Any => true,
                    Entry::Host(h) => *h == host,
                    Entry::Suffix(s) => host.ends_with(s.as_str()),
                    Entry::Net(n, p) => {
                        !addrs.is_empty() && addrs.iter().all(|a| in_net(*a, *n, *p))
                    }
                });
                if ok {
                    Ok(())
                } else {
                    Err(format!("{host} is not in [security] fetch_allow"))
                }
            }
            None if self.permissive => Ok(()),
            None => {
                if host == "localhost" || host.ends_with(".localhost") {
                    return Err(format!("{host} is a loopback name"));
                }
                match addrs.iter().find(|a| is_internal(**a)) {
                    Some(a) => Err(format!(
                        "{host} is an internal address ({a}); list it in [security] fetch_allow to allow it"
                    )),
                    None => Ok(()),
                }
            }
        }
    }

    /// Installs this policy for every OCPI client of the process
    /// ([`ocpi::client::set_fetch_policy`]); none when it allows everything.
    pub fn install(&self) {
        let allows_all = match &self.entries {
            Some(e) => e.contains(&Entry::Any),
            None => self.permissive,
        };
        if allows_all {
            ocpi::client::set_fetch_policy(None);
        } else {
            let me = self.clone();
            ocpi::client::set_fetch_policy(Some(std::sync::Arc::new(move |host, addrs| {
                me.check(host, addrs)
            })));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn default_refuses_internal_addresses_unless_a_loopback_setup() {
        let p = FetchAllow::new(None, false).unwrap();
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "0.0.0.0",
            "::ffff:127.0.0.1",
        ] {
            assert!(p.check("h", &[ip(a)]).is_err(), "{a}");
        }
        assert!(p.check("localhost", &[]).is_err());
        assert!(p.check("emsp.example.com", &[ip("203.0.113.7")]).is_ok());
        assert!(p
            .check("mixed", &[ip("203.0.113.7"), ip("10.0.0.1")])
            .is_err());
        let dev = FetchAllow::new(None, true).unwrap();
        assert!(dev.check("127.0.0.1", &[ip("127.0.0.1")]).is_ok());
    }

    #[test]
    fn allow_list_entries() {
        let list: Vec<String> = ["emsp.example.com", "*.partner.net", "203.0.113.0/24", "::1"]
            .map(String::from)
            .to_vec();
        let p = FetchAllow::new(Some(&list), true).unwrap();
        assert!(p.check("EMSP.example.com", &[ip("198.51.100.1")]).is_ok());
        assert!(p.check("a.b.partner.net", &[]).is_ok());
        assert!(p.check("partner.net.evil.com", &[]).is_err());
        assert!(p.check("x", &[ip("203.0.113.200")]).is_ok());
        assert!(p.check("x", &[ip("203.0.114.1")]).is_err());
        assert!(p.check("::1", &[ip("::1")]).is_ok());
        assert!(
            p.check("127.0.0.1", &[ip("127.0.0.1")]).is_err(),
            "the list replaces the loopback setup rule"
        );
        assert!(p.check("unresolved", &[]).is_err());
        for bad in ["http://x", "10.0.0.0/33", "a b", "*."] {
            assert!(
                FetchAllow::new(Some(&[bad.to_owned()]), false).is_err(),
                "{bad}"
            );
        }
        let any = FetchAllow::new(Some(&["*".to_owned()]), false).unwrap();
        assert!(any.check("10.0.0.1", &[ip("10.0.0.1")]).is_ok());
    }
}
