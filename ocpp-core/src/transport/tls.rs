//! TLS with rustls and its `ring` crypto provider, for `wss://` and security profiles 2 and 3.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::crypto::{ring, CryptoProvider};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};

pub use tokio_rustls::rustls;

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM input could not be read.
    #[error("PEM: {0}")]
    Pem(String),
    /// rustls refused the configuration.
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built.
    #[error("client verifier: {0}")]
    Verifier(String),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

fn certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::Pem("no certificate".into()));
    }
    Ok(certs)
}

fn key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| TlsError::Pem(e.to_string()))
}

fn roots(pem: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in certs(pem)? {
        roots.add(c)?;
    }
    Ok(roots)
}

/// The server's TLS settings.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub(crate) config: Arc<ServerConfig>,
}

impl ServerTls {
    /// The server certificate chain and key (PEM), and optionally the CA certificates (PEM)
    /// that sign station certificates. With CAs, a station may present a client certificate
    /// (security profile 3), which must chain to one of them; stations of profile 2 connect
    /// without one. TLS 1.2 and 1.3.
    pub fn from_pem(
        cert_chain: &[u8],
        key_pem: &[u8],
        client_ca: Option<&[u8]>,
    ) -> Result<Self, TlsError> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?;
        let builder = match client_ca {
            Some(ca) => {
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider())
                        .allow_unauthenticated()
                        .build()
                        .map_err(|e| TlsError::Verifier(e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let config = builder.with_single_cert(certs(cert_chain)?, key(key_pem)?)?;
        Ok(ServerTls {
            config: Arc::new(config),
        })
    }

    /// A rustls configuration the application built itself.
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        ServerTls { config }
    }
}

/// The station's TLS settings.
#[derive(Debug, Clone)]
pub struct ClientTls {
    pub(crate) config: Arc<ClientConfig>,
}

impl ClientTls {
    /// The CA certificates (PEM) the CSMS certificate must chain to, and for security profile 3
    /// the station's certificate chain and key (PEM).
    pub fn from_pem(ca: &[u8], client_cert: Option<(&[u8], &[u8])>) -> Result<Self, TlsError> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots(ca)?);
        let config = match client_cert {
            Some((chain, k)) => builder.with_client_auth_cert(certs(chain)?, key(k)?)?,
            None => builder.with_no_client_auth(),
        };
        Ok(ClientTls {
            config: Arc::new(config),
        })
    }

    /// A rustls configuration the application built itself.
    pub fn from_config(config: Arc<ClientConfig>) -> Self {
        ClientTls { config }
    }
}

/// The common name (CN, OID 2.5.4.3) of an X.509 certificate's subject (DER), if it has one.
pub fn certificate_common_name(der: &[u8]) -> Option<String> {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version?, serial, signature,
    // issuer, validity, subject, ... }, ... }
    let (cert, _) = der_element(der, 0x30)?;
    let (mut tbs, _) = der_element(cert, 0x30)?;
    if tbs.first() == Some(&0xa0) {
        tbs = der_element(tbs, 0xa0)?.1;
    }
    let mut rest = tbs;
    for tag in [0x02, 0x30, 0x30, 0x30] {
        rest = der_element(rest, tag)?.1; // serial, signature, issuer, validity
    }
    let (mut name, _) = der_element(rest, 0x30)?;
    let mut cn = None;
    while !name.is_empty() {
        let (set, next) = der_element(name, 0x31)?;
        name = next;
        let mut atvs = set;
        while !atvs.is_empty() {
            let (atv, next) = der_element(atvs, 0x30)?;
            atvs = next;
            let (oid, value) = der_element(atv, 0x06)?;
            if oid == [0x55, 0x04, 0x03] {
                let tag = *value.first()?;
                let (text, _) = der_element(value, tag)?;
                cn = Some(String::from_utf8_lossy(text).into_owned());
            }
        }
    }
    cn
}

/// Reads one DER element of `tag`: (its contents, what follows it).
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&l, rest) = rest.split_first()?;
    let (len, rest) = if l < 0x80 {
        (l as usize, rest)
    } else {
        let n = (l & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{CipherSuite, SupportedCipherSuite};

    /// The server offers TLS 1.3 and 1.2 only (rustls implements nothing older), and on
    /// TLS 1.2 only ECDHE key exchange with AEAD ciphers (forward secrecy; no CBC, no RSA key
    /// exchange, no SHA-1 MAC), as the OCPP security profiles ask.
    #[test]
    fn server_offers_tls12_and_tls13_with_aead_ecdhe_suites_only() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let tls = ServerTls::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes(), None)
            .unwrap();
        let suites = &tls.config.crypto_provider().cipher_suites;
        assert!(!suites.is_empty());
        let (mut v12, mut v13) = (0, 0);
        for s in suites {
            let name = format!("{:?}", s.suite());
            match s {
                SupportedCipherSuite::Tls13(_) => v13 += 1,
                SupportedCipherSuite::Tls12(_) => {
                    v12 += 1;
                    assert!(name.starts_with("TLS_ECDHE_"), "{name}");
                    assert!(
                        name.contains("_GCM_") || name.contains("CHACHA20_POLY1305"),
                        "{name}"
                    );
                }
            }
            assert_ne!(s.suite(), CipherSuite::TLS_NULL_WITH_NULL_NULL);
        }
        assert!(v12 > 0 && v13 > 0, "both versions have suites");
    }
}
