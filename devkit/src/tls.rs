//! TLS in front of the local services, so that a function pointed at `https://localhost:PORT`
//! pays for TLS what it pays in AWS: a test CA shaped like AWS's (root → intermediate → an RSA
//! 2048 leaf, the server sending leaf + intermediate) and a terminator that relays the plaintext
//! to DynamoDB Local or the S3 server, noting when each handshake completed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, RsaKeySize, PKCS_RSA_SHA256,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A throw-away CA (root → intermediate) and a leaf it issued for some names.
pub struct TestCa {
    root_pem: String,
    /// Leaf first, then the intermediate, as AWS endpoints send theirs.
    chain: Vec<CertificateDer<'static>>,
    leaf_key: PrivateKeyDer<'static>,
}

impl TestCa {
    /// A root, an intermediate and a leaf for `names` (DNS names or IP addresses), each with an
    /// RSA 2048 key, as AWS's certificates have: the client verifies RSA signatures, as it would
    /// against DynamoDB and S3.
    pub fn new(names: &[&str]) -> Result<Self, BoxError> {
        let key = || KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048);
        let mut root = CertificateParams::new(Vec::<String>::new())?;
        root.distinguished_name
            .push(DnType::CommonName, "coldstart test root CA");
        root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root = CertifiedIssuer::self_signed(root, key()?)?;

        let mut intermediate = CertificateParams::new(Vec::<String>::new())?;
        intermediate
            .distinguished_name
            .push(DnType::CommonName, "coldstart test intermediate CA");
        intermediate.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        intermediate.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        intermediate.use_authority_key_identifier_extension = true;
        let intermediate = CertifiedIssuer::signed_by(intermediate, key()?, &root)?;

        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut leaf = CertificateParams::new(names.clone())?;
        leaf.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        let leaf_key = key()?;
        let leaf = leaf.signed_by(&leaf_key, &intermediate)?;

        Ok(Self {
            root_pem: root.pem(),
            chain: vec![leaf.der().clone(), intermediate.der().clone()],
            leaf_key: PrivateKeyDer::try_from(leaf_key.serialize_der())?,
        })
    }

    /// The root certificate, PEM: what a client must trust.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// A server configuration presenting the leaf and the intermediate.
    ///
    /// rustls on aws-lc-rs, with the classic key exchanges only (X25519, P-256, P-384): what the
    /// earlier terminator (Python's OpenSSL 3.0) negotiated, so that a client offering the
    /// post-quantum hybrid (the SDK's default, aws-lc-rs) gets X25519 there too and the figures
    /// stay comparable across harnesses.
    fn server_config(&self) -> Result<rustls::ServerConfig, BoxError> {
        let mut provider = rustls::crypto::aws_lc_rs::default_provider();
        provider.kx_groups = vec![
            rustls::crypto::aws_lc_rs::kx_group::X25519,
            rustls::crypto::aws_lc_rs::kx_group::SECP256R1,
            rustls::crypto::aws_lc_rs::kx_group::SECP384R1,
        ];
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.leaf_key.clone_key())?;
        Ok(config)
    }
}

/// A TLS listener on 127.0.0.1 relaying each connection's plaintext to a backend; stops when
/// dropped.
pub struct Terminator {
    address: SocketAddr,
    handshakes: Arc<Mutex<Vec<Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Terminator {
    /// Listens on a free port of 127.0.0.1 with `ca`'s leaf, relaying to `backend`.
    pub async fn start(ca: &TestCa, backend: SocketAddr) -> Result<Self, BoxError> {
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(ca.server_config()?));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let noted = handshakes.clone();
        let task = tokio::spawn(async move {
            // The connections live in the set, so that stopping the listener stops them too.
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let (acceptor, noted) = (acceptor.clone(), noted.clone());
                        connections.spawn(async move {
                            let _ = client.set_nodelay(true);
                            let Ok(mut client) = acceptor.accept(client).await else { return };
                            if let Ok(mut noted) = noted.lock() {
                                noted.push(Instant::now());
                            }
                            let Ok(mut server) = TcpStream::connect(backend).await else { return };
                            let _ = server.set_nodelay(true);
                            // Either side closing ends the relay; errors are the peers' business.
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        });
                    }
                    Some(_) = connections.join_next() => {}
                }
            }
        });
        Ok(Self {
            address,
            handshakes,
            task,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// When each handshake completed so far, in order.
    pub fn handshakes(&self) -> Vec<Instant> {
        self.handshakes
            .lock()
            .map(|noted| noted.clone())
            .unwrap_or_default()
    }
}

impl Drop for Terminator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The host and port of an `http://host:port` endpoint, resolved.
pub fn endpoint_address(endpoint: &str) -> Result<SocketAddr, BoxError> {
    use std::net::ToSocketAddrs;
    let authority = endpoint
        .split("://")
        .nth(1)
        .unwrap_or(endpoint)
        .trim_end_matches('/');
    authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| format!("{endpoint}: no address").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_client_trusting_the_test_root_gets_the_backend_bytes_through_the_terminator() {
        let backend = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let backend_address = backend.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = backend.accept().await.unwrap();
            let mut asked = [0u8; 4];
            stream.read_exact(&mut asked).await.unwrap();
            stream.write_all(b"pong").await.unwrap();
        });
        let ca = TestCa::new(&["localhost", "127.0.0.1"]).unwrap();
        let terminator = Terminator::start(&ca, backend_address).await.unwrap();

        let mut roots = rustls::RootCertStore::empty();
        use rustls::pki_types::pem::PemObject;
        let root = CertificateDer::from_pem_slice(ca.root_pem().as_bytes()).unwrap();
        roots.add(root).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let tcp = TcpStream::connect(("127.0.0.1", terminator.port()))
            .await
            .unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        tls.write_all(b"ping").await.unwrap();
        let mut answer = [0u8; 4];
        tls.read_exact(&mut answer).await.unwrap();

        assert_eq!(&answer, b"pong");
        assert_eq!(terminator.handshakes().len(), 1);
        let (_, connection) = tls.get_ref();
        assert_eq!(
            connection.negotiated_key_exchange_group().map(|g| g.name()),
            Some(rustls::NamedGroup::X25519),
            "the classic exchange, as the earlier terminator negotiated"
        );
    }

    #[test]
    fn an_endpoint_resolves_to_its_host_and_port() {
        assert_eq!(
            endpoint_address("http://127.0.0.1:8000").unwrap(),
            "127.0.0.1:8000".parse().unwrap()
        );
    }
}
