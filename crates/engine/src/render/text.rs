//! Terminal text helpers with Terraform's exact behaviour: the
//! `mitchellh/colorstring` markup (`[bold]`, `[red]`, `[reset]`, ...), Go's
//! `%q` quoting and the greedy word wrapping of `format.WordWrap`.

/// Applies colorstring markup. With colour on, every known `[name]` becomes
/// its escape code and a reset code ends any string that had one (as
/// colorstring's `Reset` option does); with colour off the known markup is
/// removed. Unknown bracketed words stay as they are.
#[derive(Debug, Clone, Copy)]
pub struct Colorizer {
    pub enabled: bool,
}

impl Colorizer {
    pub fn color(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 16);
        let mut colored = false;
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut last = 0;
        while i < bytes.len() {
            if bytes[i] == b'[' {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'-')
                {
                    j += 1;
                }
                if j > start && j < bytes.len() && bytes[j] == b']' {
                    out.push_str(&text[last..i]);
                    let name = &text[start..j];
                    match color_code(name) {
                        Some(code) => {
                            colored = true;
                            if self.enabled {
                                out.push_str("\u{1b}[");
                                out.push_str(code);
                                out.push('m');
                            }
                        }
                        None => out.push_str(&text[i..=j]),
                    }
                    i = j + 1;
                    last = i;
                    continue;
                }
            }
            i += 1;
        }
        out.push_str(&text[last..]);
        if colored && self.enabled {
            out.push_str("\u{1b}[0m");
        }
        out
    }
}

/// colorstring's default colour table.
fn color_code(name: &str) -> Option<&'static str> {
    Some(match name {
        "default" => "39",
        "_default_" => "49",
        "black" => "30",
        "red" => "31",
        "green" => "32",
        "yellow" => "33",
        "blue" => "34",
        "magenta" => "35",
        "cyan" => "36",
        "light_gray" => "37",
        "dark_gray" => "90",
        "light_red" => "91",
        "light_green" => "92",
        "light_yellow" => "93",
        "light_blue" => "94",
        "light_magenta" => "95",
        "light_cyan" => "96",
        "white" => "97",
        "_black_" => "40",
        "_red_" => "41",
        "_green_" => "42",
        "_yellow_" => "43",
        "_blue_" => "44",
        "_magenta_" => "45",
        "_cyan_" => "46",
        "_light_gray_" => "47",
        "_dark_gray_" => "100",
        "_light_red_" => "101",
        "_light_green_" => "102",
        "_light_yellow_" => "103",
        "_light_blue_" => "104",
        "_light_magenta_" => "105",
        "_light_cyan_" => "106",
        "_white_" => "107",
        "bold" => "1",
        "dim" => "2",
        "underline" => "4",
        "blink_slow" => "5",
        "blink_fast" => "6",
        "invert" => "7",
        "hidden" => "8",
        "reset" => "0",
        "reset_bold" => "21",
        _ => return None,
    })
}

/// Go's `strconv.Quote` (`%q`): printable characters as they are, the
/// rest escaped.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint`: graphic characters and the
/// ASCII space; other spaces, controls and format characters are not.
fn go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
        | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb
        | 0xd800..=0xdfff | 0xe000..=0xf8ff | 0xfffe | 0xffff)
}

/// Terraform's `format.WordWrap`: each line that does not start with a
/// space is wrapped greedily at `width - 1` characters; lines starting with
/// a space stay as they are.
pub fn word_wrap(text: &str, width: usize) -> String {
    if width <= 1 {
        return text.to_owned();
    }
    let limit = width - 1;
    text.split('\n')
        .map(|line| {
            if line.starts_with(' ') {
                line.to_owned()
            } else {
                wrap_line(line, limit)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `mitchellh/go-wordwrap`'s `WrapString` for one line: breaks at spaces
/// so that no line is longer than `limit` characters unless a single word
/// is; the space at a break is dropped.
fn wrap_line(line: &str, limit: usize) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut current = 0usize;
    let mut word = String::new();
    let mut word_len = 0usize;
    let mut space = String::new();
    let mut space_len = 0usize;
    for c in line.chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                out.push_str(&space);
                out.push_str(&word);
                space.clear();
                space_len = 0;
                word.clear();
                word_len = 0;
            }
            space.push(c);
            space_len += 1;
        } else {
            word.push(c);
            word_len += 1;
            if current + space_len + word_len > limit && word_len < limit {
                out.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    if word.is_empty() {
        if current + space_len <= limit {
            out.push_str(&space);
        }
    } else {
        out.push_str(&space);
        out.push_str(&word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colorize_adds_codes_and_a_final_reset() {
        let on = Colorizer { enabled: true };
        let off = Colorizer { enabled: false };
        assert_eq!(
            on.color("[yellow]~[reset] "),
            "\u{1b}[33m~\u{1b}[0m \u{1b}[0m"
        );
        assert_eq!(off.color("[yellow]~[reset] "), "~ ");
        assert_eq!(on.color("plain"), "plain");
        assert_eq!(off.color("[bold]  # x.y[1][reset] z"), "  # x.y[1] z");
        assert_eq!(on.color("a[nope]b"), "a[nope]b");
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(
            go_quote("quote \" tab \t uni héllo 世 emoji 😀 back \\"),
            "\"quote \\\" tab \\t uni héllo 世 emoji 😀 back \\\\\""
        );
        assert_eq!(go_quote("\u{1}\u{a0}"), "\"\\x01\\u00a0\"");
    }

    #[test]
    fn wraps_at_width_minus_one() {
        let text = "Terraform used the selected providers to generate the following execution plan. Resource actions are indicated with the following symbols:";
        assert_eq!(
            word_wrap(text, 78),
            "Terraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:"
        );
        assert_eq!(word_wrap("\n  kept as is", 5), "\n  kept as is");
    }
}
