//! Smart comments, as PostGraphile v4 reads them: the leading lines of a `COMMENT ON` that
//! start with `@tag` are tags (`@name widget`, `@omit create,update`, `@primaryKey id`, ...);
//! the text after them is the description.

use std::collections::BTreeMap;

/// The tags of one comment and what is left of it as a description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    /// Tag → its values in order (`None` for a bare `@tag`); a tag may repeat.
    tags: BTreeMap<String, Vec<Option<String>>>,
    pub description: Option<String>,
}

/// v4's `parseTags`: tag lines are read while no text has been seen.
pub fn parse(comment: Option<&str>) -> Tags {
    let mut out = Tags::default();
    let Some(comment) = comment else {
        return out;
    };
    let mut text: Option<String> = None;
    for line in comment
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
    {
        if let Some(t) = &mut text {
            t.push('\n');
            t.push_str(line);
            continue;
        }
        match tag_line(line) {
            Some((key, value)) => out.tags.entry(key).or_default().push(value),
            None => text = Some(line.to_string()),
        }
    }
    out.description = text.filter(|t| !t.is_empty());
    out
}

/// `@key` or `@key value` (the key is `[A-Za-z][A-Za-z0-9_]*`).
fn tag_line(line: &str) -> Option<(String, Option<String>)> {
    let rest = line.strip_prefix('@')?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let key = &rest[..end];
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let after = &rest[end..];
    match after.chars().next() {
        None => Some((key.to_string(), None)),
        Some(c) if c.is_whitespace() => {
            Some((key.to_string(), Some(after[c.len_utf8()..].to_string())))
        }
        Some(_) => None,
    }
}

impl Tags {
    /// Whether the tag is there (with or without a value).
    pub fn has(&self, key: &str) -> bool {
        self.tags.contains_key(key)
    }

    /// The first value of a tag, trimmed (None for a bare tag or a missing one).
    pub fn value(&self, key: &str) -> Option<&str> {
        self.tags
            .get(key)?
            .iter()
            .flatten()
            .map(|v| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every value of a repeatable tag (`@unique`, `@foreignKey`).
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.tags
            .get(key)
            .into_iter()
            .flatten()
            .flatten()
            .map(|v| v.trim())
            .collect()
    }

    /// `@simpleCollections omit|both|only` (anything else is ignored, with a warning).
    pub fn simple_collections(&self) -> Option<super::SimpleCollections> {
        let v = self.value("simpleCollections")?;
        let mode = super::SimpleCollections::parse(v);
        if mode.is_none() {
            tracing::warn!("@simpleCollections {v}: expected omit, both or only; ignored");
        }
        mode
    }

    /// What `@omit` hides: everything (a bare `@omit`) or some actions.
    pub fn omit(&self) -> Omit {
        let Some(values) = self.tags.get("omit") else {
            return Omit::default();
        };
        let mut omit = Omit::default();
        for v in values {
            let Some(v) = v else {
                omit.whole = true;
                continue;
            };
            for action in v.split(',').map(str::trim) {
                match action {
                    "create" => omit.create = true,
                    "read" => omit.read = true,
                    "update" => omit.update = true,
                    "delete" => omit.delete = true,
                    "all" => omit.all = true,
                    "many" => omit.many = true,
                    "filter" => omit.filter = true,
                    "order" => omit.order = true,
                    "execute" => omit.execute = true,
                    "" => omit.whole = true,
                    other => tracing::warn!("@omit {other}: unknown action, ignored"),
                }
            }
        }
        omit
    }
}

/// The actions `@omit` leaves out (PostGraphile v4's names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Omit {
    /// A bare `@omit`: the object is not exposed at all.
    pub whole: bool,
    pub create: bool,
    pub read: bool,
    pub update: bool,
    pub delete: bool,
    /// `allXs`
    pub all: bool,
    /// Backward relations to the table (`postsByAuthorId`).
    pub many: bool,
    /// `condition`
    pub filter: bool,
    /// `orderBy`
    pub order: bool,
    /// A function: not exposed.
    pub execute: bool,
}

/// Column names of a list tag value: `id` or `a, b` or `(a, b)`.
pub fn column_list(s: &str) -> Vec<String> {
    s.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// A `@foreignKey (a, b) references [schema.]table [(c, d)]` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub schema: Option<String>,
    pub table: String,
    /// None: the referenced table's primary key.
    pub foreign_columns: Option<Vec<String>>,
    /// The tags after `|` (`|@fieldName author|@foreignFieldName posts`), as v4 reads them.
    pub tags: Tags,
}

pub fn foreign_key(s: &str) -> Option<ForeignKey> {
    let (s, options) = s.split_once('|').unwrap_or((s, ""));
    let tags = parse(Some(&options.replace('|', "\n")));
    let s = s.trim();
    let close = s.find(')')?;
    let columns = column_list(s.strip_prefix('(')?.get(..close - 1)?);
    let rest = s[close + 1..].trim_start();
    let rest = rest
        .strip_prefix("references")
        .or_else(|| rest.strip_prefix("REFERENCES"))?
        .trim_start();
    // The target ends where its column list (or the `|@...` options v4 allows) begins.
    let target_end = rest.find(['(', '|', ' ']).unwrap_or(rest.len());
    let target = rest[..target_end].trim();
    let after = rest[target_end..].trim_start();
    let foreign_columns = after
        .strip_prefix('(')
        .and_then(|a| a.find(')').map(|e| column_list(&a[..e])));
    let (schema, table) = match target.split_once('.') {
        Some((s, t)) => (Some(s.trim_matches('"').to_string()), t),
        None => (None, target),
    };
    if columns.is_empty() || table.is_empty() {
        return None;
    }
    Some(ForeignKey {
        columns,
        schema,
        table: table.trim_matches('"').to_string(),
        foreign_columns,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_tag_lines_are_tags_and_the_rest_is_the_description() {
        let t = parse(Some(
            "@name widget\n@omit create,delete\n@unique a\n@unique b,c\nA thing.\n@notATag here",
        ));
        assert_eq!(t.value("name"), Some("widget"));
        assert_eq!(t.values("unique"), ["a", "b,c"]);
        assert_eq!(t.description.as_deref(), Some("A thing.\n@notATag here"));
        let omit = t.omit();
        assert!(omit.create && omit.delete && !omit.update && !omit.whole);
        let bare = parse(Some("@omit"));
        assert!(bare.omit().whole && bare.description.is_none());
        assert_eq!(
            parse(Some("Just text.")).description.as_deref(),
            Some("Just text.")
        );
        assert!(!parse(Some("@ not a tag")).has(""));
        assert_eq!(
            parse(Some("email@example.com")).description.as_deref(),
            Some("email@example.com")
        );
        assert!(parse(Some("@deprecated")).has("deprecated"));
    }

    #[test]
    fn foreign_key_tags() {
        assert_eq!(
            foreign_key("(author_id) references app_public.users (id)"),
            Some(ForeignKey {
                columns: vec!["author_id".into()],
                schema: Some("app_public".into()),
                table: "users".into(),
                foreign_columns: Some(vec!["id".into()]),
                tags: Tags::default(),
            })
        );
        let fk =
            foreign_key("(a) references t (id)|@fieldName owner|@foreignFieldName things").unwrap();
        assert_eq!(fk.foreign_columns, Some(vec!["id".to_string()]));
        assert_eq!(fk.tags.value("fieldName"), Some("owner"));
        assert_eq!(fk.tags.value("foreignFieldName"), Some("things"));
        let fk = foreign_key("(a, b) references pairs").unwrap();
        assert_eq!(fk.columns, ["a", "b"]);
        assert_eq!(
            (fk.schema, fk.table.as_str(), fk.foreign_columns),
            (None, "pairs", None)
        );
        assert_eq!(foreign_key("author_id references users"), None);
        assert_eq!(column_list("(a, \"b\")"), ["a", "b"]);
    }
}
