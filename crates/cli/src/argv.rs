//! Terraform spells long flags with one dash (`-var=x`, `-auto-approve`);
//! clap wants two. Rewriting argv up front lets both spellings work.

use std::ffi::OsString;

/// Turns `-name…` into `--name…` for every argument before a bare `--` whose
/// name is longer than one letter. Short flags (`-h`, `-f`), values that do
/// not look like flags, and negative numbers are left alone.
pub fn normalize(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut rest_verbatim = false;
    for (i, arg) in args.into_iter().enumerate() {
        if i == 0 || rest_verbatim {
            out.push(arg);
            continue;
        }
        let Some(s) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        if s == "--" {
            rest_verbatim = true;
            out.push(arg);
            continue;
        }
        if is_single_dash_long_flag(s) {
            out.push(OsString::from(format!("-{s}")));
        } else {
            out.push(arg);
        }
    }
    out
}

fn is_single_dash_long_flag(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('-') else {
        return false;
    };
    if rest.starts_with('-') {
        return false;
    }
    let name = rest.split('=').next().unwrap_or("");
    name.len() > 1
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[&str], expected: &[&str]) {
        let got = normalize(input.iter().map(OsString::from));
        let got: Vec<_> = got.iter().map(|s| s.to_str().unwrap()).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn single_dash_long_flags_get_a_second_dash() {
        check(
            &[
                "meshform",
                "-chdir=dir",
                "plan",
                "-var=a=b",
                "-auto-approve",
            ],
            &[
                "meshform",
                "--chdir=dir",
                "plan",
                "--var=a=b",
                "--auto-approve",
            ],
        );
    }

    #[test]
    fn short_flags_values_and_negative_numbers_stay() {
        check(
            &[
                "meshform", "helm", "template", "-f", "v.yaml", "--set", "a=-1", "-5",
            ],
            &[
                "meshform", "helm", "template", "-f", "v.yaml", "--set", "a=-1", "-5",
            ],
        );
    }

    #[test]
    fn everything_after_double_dash_is_verbatim() {
        check(&["meshform", "--", "-var=x"], &["meshform", "--", "-var=x"]);
    }
}
