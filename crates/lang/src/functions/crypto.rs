//! Hash and crypto functions, and UUIDs. `uuid` and `bcrypt` are impure:
//! during plan their result is unknown, as Terraform shows them.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::encoding::b64;
use super::filesystem::read;
use super::{p, Args, FnError, FnResult, Func, T};
use crate::eval::Phase;
use crate::types::Type;
use crate::value::Value;

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "md5",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(hex::<Md5>(a.str(0).as_bytes())),
    },
    Func {
        name: "sha1",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(hex::<Sha1>(a.str(0).as_bytes())),
    },
    Func {
        name: "sha256",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(hex::<Sha256>(a.str(0).as_bytes())),
    },
    Func {
        name: "sha512",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(hex::<Sha512>(a.str(0).as_bytes())),
    },
    Func {
        name: "base64sha256",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(base64_digest::<Sha256>(a.str(0).as_bytes())),
    },
    Func {
        name: "base64sha512",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(base64_digest::<Sha512>(a.str(0).as_bytes())),
    },
    Func {
        name: "filemd5",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(hex::<Md5>(&read(a, 0)?)),
    },
    Func {
        name: "filesha1",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(hex::<Sha1>(&read(a, 0)?)),
    },
    Func {
        name: "filesha256",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(hex::<Sha256>(&read(a, 0)?)),
    },
    Func {
        name: "filesha512",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(hex::<Sha512>(&read(a, 0)?)),
    },
    Func {
        name: "filebase64sha256",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(base64_digest::<Sha256>(&read(a, 0)?)),
    },
    Func {
        name: "filebase64sha512",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(base64_digest::<Sha512>(&read(a, 0)?)),
    },
    Func {
        name: "uuid",
        params: &[],
        variadic: None,
        ret: T::String,
        imp: uuid_v4,
    },
    Func {
        name: "uuidv5",
        params: &[p("namespace", T::String), p("name", T::String)],
        variadic: None,
        ret: T::String,
        imp: uuid_v5,
    },
    Func {
        name: "rsadecrypt",
        params: &[p("ciphertext", T::String), p("privatekey", T::String)],
        variadic: None,
        ret: T::String,
        imp: rsadecrypt,
    },
    Func {
        name: "bcrypt",
        params: &[p("str", T::String)],
        variadic: Some(p("cost", T::Number)),
        ret: T::String,
        imp: bcrypt_hash,
    },
];

fn hex<D: Digest>(bytes: &[u8]) -> Value {
    let digest = D::digest(bytes);
    Value::string(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    )
}

fn base64_digest<D: Digest>(bytes: &[u8]) -> Value {
    Value::string(b64(&D::digest(bytes)))
}

fn uuid_v4(a: &Args<'_, '_>) -> FnResult {
    if a.ev.ctx.phase() == Phase::Plan {
        return Ok(Value::unknown(Type::String));
    }
    Ok(Value::string(uuid::Uuid::new_v4().to_string()))
}

fn uuid_v5(a: &Args<'_, '_>) -> FnResult {
    let ns = match a.str(0) {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|_| {
            FnError::call(format!(
                "uuidv5() doesn't support namespace {other} (invalid UUID length: {})",
                other.len()
            ))
        })?,
    };
    Ok(Value::string(
        uuid::Uuid::new_v5(&ns, a.str(1).as_bytes()).to_string(),
    ))
}

fn bcrypt_hash(a: &Args<'_, '_>) -> FnResult {
    if a.len() > 2 {
        return Err(FnError::call("bcrypt() takes no more than two arguments"));
    }
    let cost = if a.len() == 2 { a.int(1)? } else { 10 };
    if !(4..=31).contains(&cost) {
        return Err(FnError::call(format!(
            "crypto/bcrypt: cost {cost} is outside allowed range (4,31)"
        )));
    }
    if a.ev.ctx.phase() == Phase::Plan {
        return Ok(Value::unknown(Type::String));
    }
    let hashed = bcrypt::hash_with_result(a.str(0), cost as u32)
        .map_err(|e| FnError::call(format!("error occurred generating password {e}")))?;
    Ok(Value::string(
        hashed.format_for_version(bcrypt::Version::TwoA),
    ))
}

/// RSA PKCS #1 v1.5 decryption of base64 ciphertext with a PEM private key
/// (PKCS #1 or PKCS #8).
fn rsadecrypt(a: &Args<'_, '_>) -> FnResult {
    use base64::Engine;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let cipher = base64::engine::general_purpose::STANDARD
        .decode(a.str(0))
        .map_err(|_| {
            FnError::arg(
                0,
                format!(
                    "failed to decode input {:?}: cipher text must be base64-encoded",
                    a.str(0)
                ),
            )
        })?;
    let pem = a.str(1);
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs8_pem(pem))
        .map_err(|e| FnError::arg(1, format!("invalid private key: {e}")))?;
    let plain = key
        .decrypt(rsa::Pkcs1v15Encrypt, &cipher)
        .map_err(|e| FnError::call(format!("failed to decrypt: {e}")))?;
    Ok(Value::string(String::from_utf8_lossy(&plain).into_owned()))
}
