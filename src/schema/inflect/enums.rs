//! Enum value names as PostGraphile v4 makes them from Postgres enum labels and enum-table
//! rows.

/// Enum value for a Postgres enum label: `in_progress` → `IN_PROGRESS`
pub fn enum_value(label: &str) -> String {
    v4_constant_case(&enum_symbol(label))
}

/// v4's `enumName`: an empty label, asterisks and labels that are one common symbol get words.
fn enum_symbol(label: &str) -> String {
    if label.is_empty() {
        return "_EMPTY_".into();
    }
    let mut value = label.replace('*', "_ASTERISK_");
    // `^(_?)_+ASTERISK` → `$1ASTERISK`, `ASTERISK_(_?)_*$` → `ASTERISK$1`.
    if let Some(rest) = value.strip_prefix('_') {
        let keep = if rest.starts_with('_') { "_" } else { "" };
        let trimmed = rest.trim_start_matches('_');
        if trimmed.starts_with("ASTERISK") && (keep.is_empty() || rest.len() > trimmed.len()) {
            value = format!("{keep}{trimmed}");
        }
    }
    if let Some(head) = value.strip_suffix('_') {
        let trimmed = head.trim_end_matches('_');
        if trimmed.ends_with("ASTERISK") {
            let keep = if head.len() > trimmed.len() { "_" } else { "" };
            value = format!("{trimmed}{keep}");
        }
    }
    let word = match value.as_str() {
        ">" => "GREATER_THAN",
        ">=" => "GREATER_THAN_OR_EQUAL",
        "=" => "EQUAL",
        "!=" => "NOT_EQUAL",
        "<>" => "DIFFERENT",
        "<=" => "LESS_THAN_OR_EQUAL",
        "<" => "LESS_THAN",
        "~~" => "LIKE",
        "~~*" => "ILIKE",
        "!~~" => "NOT_LIKE",
        "!~~*" => "NOT_ILIKE",
        "~" => "TILDE",
        "~*" => "TILDE_ASTERISK",
        "!~" => "NOT_TILDE",
        "!~*" => "NOT_TILDE_ASTERISK",
        "%" => "PERCENT",
        "+" => "PLUS",
        "-" => "MINUS",
        "/" => "SLASH",
        "\\" => "BACKSLASH",
        "_" => "UNDERSCORE",
        "#" => "POUND",
        "£" => "STERLING",
        "$" => "DOLLAR",
        "&" => "AMPERSAND",
        "@" => "AT",
        "'" => "APOSTROPHE",
        "\"" => "QUOTE",
        "`" => "BACKTICK",
        ":" => "COLON",
        ";" => "SEMICOLON",
        "!" => "EXCLAMATION_POINT",
        "?" => "QUESTION_MARK",
        "," => "COMMA",
        "." => "DOT",
        "^" => "CARET",
        "|" => "BAR",
        "[" => "OPEN_BRACKET",
        "]" => "CLOSE_BRACKET",
        "(" => "OPEN_PARENTHESIS",
        ")" => "CLOSE_PARENTHESIS",
        "{" => "OPEN_BRACE",
        "}" => "CLOSE_BRACE",
        _ => return value,
    };
    word.into()
}

/// graphile-build's `constantCase`: leading and trailing underscores kept; inside them, runs
/// of other characters become `_`, an upper-case run starts a word, `__` collapses, leading
/// non-alphanumerics go, a leading digit gets `_`, and all is upper case.
fn v4_constant_case(s: &str) -> String {
    let start = s.len() - s.trim_start_matches('_').len();
    let middle = s.trim_start_matches('_');
    let end = middle.len() - middle.trim_end_matches('_').len();
    let (lead, middle, trail) = (
        &s[..start],
        &middle[..middle.len() - end],
        &s[s.len() - end..],
    );
    let mut words = String::new();
    let mut in_other = false;
    let mut in_upper = false;
    for c in middle.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            in_other = false;
            if c.is_ascii_uppercase() {
                if !in_upper {
                    words.push('_');
                }
                in_upper = true;
            } else {
                in_upper = false;
            }
            words.push(c);
        } else {
            in_upper = false;
            if !in_other {
                words.push('_');
            }
            in_other = true;
        }
    }
    let mut collapsed = String::with_capacity(words.len());
    for c in words.chars() {
        if !(c == '_' && collapsed.ends_with('_')) {
            collapsed.push(c);
        }
    }
    let trimmed = collapsed.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let digit = if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        "_"
    } else {
        ""
    };
    format!("{lead}{digit}{}{trail}", trimmed.to_ascii_uppercase())
}
