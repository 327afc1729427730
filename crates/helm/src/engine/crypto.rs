//! Sprig's certificate functions: `genPrivateKey`, `genCA`,
//! `genSelfSignedCert`, `genSignedCert`, plus `uuidv4` and `randBytes`.
//! Like Sprig, keys are RSA-2048 written as PKCS#1 PEM ("RSA PRIVATE KEY").

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use gotmpl::{FuncMap, Value};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::EncodePublicKey;
use rsa::RsaPrivateKey;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::{Ia5String, ObjectIdentifier, OctetString};
use x509_cert::der::{DecodePem, EncodePem};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;
use x509_cert::Certificate;

use super::adapter::fail;
use super::convert::go_string;
use super::funcs::to_i64;

const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
const CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

fn s(v: &str) -> Value {
    Value::String(Arc::from(v))
}

fn new_key() -> gotmpl::Result<RsaPrivateKey> {
    RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
        .map_err(|e| fail(format!("error generating RSA key: {e}")))
}

fn key_pem(key: &RsaPrivateKey) -> gotmpl::Result<String> {
    key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(|e| fail(format!("error encoding key: {e}")))
}

fn escape_dn(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if ",+\"\\<>;=".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn name(cn: &str) -> gotmpl::Result<Name> {
    if cn.is_empty() {
        return Ok(Name::default());
    }
    Name::from_str(&format!("CN={}", escape_dn(cn)))
        .map_err(|e| fail(format!("invalid common name {cn:?}: {e}")))
}

fn serial() -> SerialNumber {
    use rand::Rng;
    let mut bytes: [u8; 16] = rand::thread_rng().gen();
    bytes[0] &= 0x7f;
    if bytes[0] == 0 {
        bytes[0] = 1;
    }
    SerialNumber::new(&bytes).unwrap_or_else(|_| SerialNumber::from(1u32))
}

fn validity(days: i64) -> gotmpl::Result<Validity> {
    Validity::from_now(Duration::from_secs(days.max(0) as u64 * 86_400))
        .map_err(|e| fail(format!("invalid validity: {e}")))
}

fn spki(key: &RsaPrivateKey) -> gotmpl::Result<SubjectPublicKeyInfoOwned> {
    let der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| fail(format!("error encoding public key: {e}")))?;
    SubjectPublicKeyInfoOwned::try_from(der.as_bytes())
        .map_err(|e| fail(format!("error encoding public key: {e}")))
}

fn sans(ips: &Value, dns: &Value) -> gotmpl::Result<Vec<GeneralName>> {
    let mut out = Vec::new();
    if let Value::List(l) = ips {
        for ip in l.iter() {
            let text = go_string(ip);
            let addr: std::net::IpAddr = text
                .parse()
                .map_err(|_| fail(format!("error parsing ip: {text}")))?;
            let bytes = match addr {
                std::net::IpAddr::V4(a) => a.octets().to_vec(),
                std::net::IpAddr::V6(a) => a.octets().to_vec(),
            };
            out.push(GeneralName::IpAddress(
                OctetString::new(bytes).map_err(|e| fail(e.to_string()))?,
            ));
        }
    }
    if let Value::List(l) = dns {
        for d in l.iter() {
            let text = go_string(d);
            out.push(GeneralName::DnsName(
                Ia5String::new(&text)
                    .map_err(|e| fail(format!("invalid DNS name {text:?}: {e}")))?,
            ));
        }
    }
    Ok(out)
}

fn cert_value(cert: &Certificate, key: &RsaPrivateKey) -> gotmpl::Result<Value> {
    let pem = cert
        .to_pem(x509_cert::der::pem::LineEnding::LF)
        .map_err(|e| fail(format!("error encoding certificate: {e}")))?;
    let mut m = BTreeMap::new();
    m.insert(Arc::from("Cert"), s(&pem));
    m.insert(Arc::from("Key"), s(&key_pem(key)?));
    Ok(Value::Map(Arc::new(m)))
}

fn build(
    profile: Profile,
    subject: Name,
    key: &RsaPrivateKey,
    signer_key: &RsaPrivateKey,
    days: i64,
    extra: Option<(Vec<GeneralName>, bool)>,
) -> gotmpl::Result<Certificate> {
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(signer_key.clone());
    let mut builder = CertificateBuilder::new(
        profile,
        serial(),
        validity(days)?,
        subject,
        spki(key)?,
        &signer,
    )
    .map_err(|e| fail(format!("error building certificate: {e}")))?;
    if let Some((names, server)) = extra {
        if !names.is_empty() {
            builder
                .add_extension(&SubjectAltName(names))
                .map_err(|e| fail(format!("error adding SANs: {e}")))?;
        }
        if server {
            builder
                .add_extension(&ExtendedKeyUsage(vec![SERVER_AUTH, CLIENT_AUTH]))
                .map_err(|e| fail(format!("error adding key usage: {e}")))?;
        }
    }
    builder
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|e| fail(format!("error signing certificate: {e}")))
}

fn gen_ca(cn: &str, days: i64) -> gotmpl::Result<Value> {
    let key = new_key()?;
    let cert = build(Profile::Root, name(cn)?, &key, &key, days, None)?;
    cert_value(&cert, &key)
}

fn gen_self_signed(cn: &str, ips: &Value, dns: &Value, days: i64) -> gotmpl::Result<Value> {
    let key = new_key()?;
    let subject = name(cn)?;
    let profile = Profile::Leaf {
        issuer: subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: true,
    };
    let cert = build(
        profile,
        subject,
        &key,
        &key,
        days,
        Some((sans(ips, dns)?, true)),
    )?;
    cert_value(&cert, &key)
}

fn gen_signed(cn: &str, ips: &Value, dns: &Value, days: i64, ca: &Value) -> gotmpl::Result<Value> {
    let ca_cert_pem = ca.field("Cert").map(go_string).unwrap_or_default();
    let ca_key_pem = ca.field("Key").map(go_string).unwrap_or_default();
    let ca_cert = Certificate::from_pem(ca_cert_pem.as_bytes())
        .map_err(|e| fail(format!("error parsing ca cert: {e}")))?;
    let ca_key = RsaPrivateKey::from_pkcs1_pem(&ca_key_pem)
        .map_err(|e| fail(format!("error parsing ca key: {e}")))?;
    let key = new_key()?;
    let profile = Profile::Leaf {
        issuer: ca_cert.tbs_certificate.subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: true,
    };
    let cert = build(
        profile,
        name(cn)?,
        &key,
        &ca_key,
        days,
        Some((sans(ips, dns)?, true)),
    )?;
    cert_value(&cert, &key)
}

macro_rules! reg {
    ($m:expr, $name:expr, $f:expr) => {
        $m.insert($name.to_string(), Arc::new($f) as gotmpl::ValueFunc);
    };
}

pub(crate) fn register(m: &mut FuncMap) {
    let arg = |a: &[Value], i: usize| a.get(i).cloned().unwrap_or(Value::Nil);
    reg!(m, "genCA", move |a: &[Value]| gen_ca(
        &go_string(&arg(a, 0)),
        to_i64(&arg(a, 1))
    ));
    reg!(m, "genSelfSignedCert", move |a: &[Value]| {
        gen_self_signed(
            &go_string(&arg(a, 0)),
            &arg(a, 1),
            &arg(a, 2),
            to_i64(&arg(a, 3)),
        )
    });
    reg!(m, "genSignedCert", move |a: &[Value]| {
        gen_signed(
            &go_string(&arg(a, 0)),
            &arg(a, 1),
            &arg(a, 2),
            to_i64(&arg(a, 3)),
            &arg(a, 4),
        )
    });
    reg!(m, "genPrivateKey", move |a: &[Value]| {
        let kind = go_string(&arg(a, 0));
        match kind.as_str() {
            "" | "rsa" => Ok(s(&key_pem(&new_key()?)?)),
            other => Err(fail(format!(
                "unknown private key type {other:?} (only rsa is supported)"
            ))),
        }
    });
    reg!(m, "uuidv4", |_a: &[Value]| Ok(s(
        &uuid::Uuid::new_v4().to_string()
    )));
    reg!(m, "randBytes", move |a: &[Value]| {
        use rand::RngCore;
        let n = to_i64(&arg(a, 0)).clamp(0, 1 << 20) as usize;
        let mut buf = vec![0u8; n];
        rand::thread_rng().fill_bytes(&mut buf);
        Ok(s(&base64::engine::general_purpose::STANDARD.encode(buf)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_signs_a_leaf_certificate() {
        let ca = gen_ca("test-ca", 10).unwrap();
        let ca_cert = go_string(ca.field("Cert").unwrap());
        assert!(ca_cert.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(
            go_string(ca.field("Key").unwrap()).starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
        );
        let dns = Value::List(vec![s("a.example"), s("b.example")].into());
        let ips = Value::List(vec![s("10.0.0.1")].into());
        let leaf = gen_signed("leaf", &ips, &dns, 10, &ca).unwrap();
        let leaf_pem = go_string(leaf.field("Cert").unwrap());
        let cert = Certificate::from_pem(leaf_pem.as_bytes()).unwrap();
        let parsed_ca = Certificate::from_pem(ca_cert.as_bytes()).unwrap();
        assert_eq!(
            cert.tbs_certificate.issuer,
            parsed_ca.tbs_certificate.subject
        );
        assert_eq!(cert.tbs_certificate.subject.to_string(), "CN=leaf");
    }
}
