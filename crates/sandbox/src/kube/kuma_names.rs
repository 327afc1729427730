//! The names Kuma gives resources it syncs between control planes (KDS):
//! the display name, a dash, and a hash of mesh, name and origin labels.
//!
//! Facts from Kuma 2.x (`pkg/kds/hash`): FNV-1a 64 over the bytes of the mesh,
//! the display name and then each extra value, with nothing between them;
//! the 8-byte sum, big-endian, in lower-case hex; every hex digit then mapped
//! through Kubernetes' safe alphabet (`rand.SafeEncodeString`: the digit's
//! code point modulo 27 picks from `bcdfghjklmnpqrstvwxz2456789`), so the
//! suffix has no vowels. The name is cut so the whole fits 253 characters.

/// Kubernetes' alphabet for generated names (no vowels, no confusable digits).
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// Longest Kubernetes object name.
const NAME_LIMIT: usize = 253;
/// The dash and the 16 characters of the suffix.
const SUFFIX_LENGTH: usize = 17;

fn fnv1a_64(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|p| p.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn safe_encode(text: &str) -> String {
    text.chars()
        .map(|c| char::from(SAFE_ALPHABET[(c as usize) % SAFE_ALPHABET.len()]))
        .collect()
}

/// The name of `name` (a display name) in `mesh` once synced, hashed with
/// the extra values Kuma adds (the zone and namespace labels, when set).
pub fn hashed_name(mesh: &str, name: &str, extra: &[&str]) -> String {
    let mut parts = vec![mesh, name];
    parts.extend_from_slice(extra);
    let hex: String = fnv1a_64(&parts)
        .to_be_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut cut = NAME_LIMIT - SUFFIX_LENGTH;
    while cut < name.len() && !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let short = if name.len() > cut { &name[..cut] } else { name };
    format!("{short}-{}", safe_encode(&hex))
}

/// Why `name` is not a valid Kubernetes object name (a lower-case RFC 1123
/// subdomain), or None when it is.
pub fn invalid_object_name(name: &str) -> Option<&'static str> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && label.starts_with(|c: char| c.is_ascii_alphanumeric())
            && label.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    if name.len() > NAME_LIMIT {
        return Some("must be no more than 253 characters");
    }
    if name.split('.').all(label_ok) {
        None
    } else {
        Some("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names from Kuma 2.14's own tests (`pkg/kds/context/context_test.go`:
    /// a resource without a mesh, with and without zone and namespace).
    #[test]
    fn names_without_a_mesh_match_kumas() {
        assert_eq!(hashed_name("", "foo", &[]), "foo-zxw6c95d42zfz9cc");
        assert_eq!(
            hashed_name("", "foo", &["zone-1", "custom-ns"]),
            "foo-696vzv497z4cv4f4"
        );
    }

    #[test]
    fn long_names_are_cut_to_fit() {
        let long = "a".repeat(300);
        let hashed = hashed_name("default", &long, &[]);
        assert_eq!(hashed.len(), 253);
        assert!(hashed.starts_with(&"a".repeat(236)));
    }

    #[test]
    fn object_names() {
        assert_eq!(invalid_object_name("allow-all-48xx85dv9d6z4b22"), None);
        assert!(invalid_object_name("Allow_All-48xx85dv9d6z4b22").is_some());
        assert!(invalid_object_name("a..b").is_some());
    }
}
