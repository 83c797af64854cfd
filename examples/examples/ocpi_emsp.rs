//! An OCPI 2.2.1 eMSP client: registers with a CPO (the credentials handshake with the CPO's
//! `TOKEN_A`) and lists the CPO's locations, following the pagination to the end.
//!
//! ```text
//! cargo run -p examples --example ocpi_emsp -- <cpo versions URL> <TOKEN_A> [<our versions URL>]
//! ```
//! (Our versions URL is what the CPO would call back; this example serves nothing there.)
use ocpi::client::Client;
use ocpi::credentials::generate_token;
use ocpi::transport::{PageQuery, TokenEncoding};
use ocpi::v221::{Credentials, InterfaceRole, Location, ModuleId, VersionNumber};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [versions_url, token_a, rest @ ..] = args.as_slice() else {
        eprintln!("usage: ocpi_emsp <cpo versions URL> <TOKEN_A> [<our versions URL>]");
        std::process::exit(2);
    };
    let ours_url = rest
        .first()
        .map_or("https://emsp.example.com/ocpi/versions", |s| s.as_str());
    // Our credentials: the token B the CPO will use to call us, and who we are.
    let ours: Credentials = serde_json::from_value(serde_json::json!({
        "token": generate_token(),
        "url": ours_url,
        "roles": [{"role": "EMSP", "business_details": {"name": "Example eMSP"},
                   "party_id": "EXA", "country_code": "NL"}]
    }))?;
    let registered =
        Client::register(token_a, versions_url, &[VersionNumber::V2_2_1], &ours).await?;
    println!(
        "registered: OCPI {:?}, {} endpoints",
        registered.version,
        registered.endpoints.len()
    );
    let locations = registered
        .endpoints
        .iter()
        .find(|e| e.identifier == ModuleId::Locations && e.role == InterfaceRole::Sender)
        .ok_or("the CPO offers no locations sender endpoint")?;
    // From now on every call uses TOKEN_C.
    let client = Client::new(registered.token_c.clone(), TokenEncoding::Base64);
    let (list, pages) = client
        .get_all::<Location>(&locations.url.0, &PageQuery::default())
        .await?;
    println!("{} locations in {pages} pages", list.len());
    for l in &list {
        let v = serde_json::to_value(l)?;
        println!(
            "{}  {}  {}, {}",
            v["id"], v["name"], v["address"], v["city"]
        );
    }
    Ok(())
}
