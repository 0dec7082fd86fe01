//! All GraphQL naming, PostGraphile v4's default inflection: the only place names are made.

/// `post_tags` → `PostTags`; leading and trailing underscores are kept, as v4's
/// `upperCamelCase` keeps them (`_group_concat` → `_GroupConcat`).
pub fn upper_camel(s: &str) -> String {
    let (lead, middle, trail) = underscores(s);
    format!("{lead}{}{trail}", words_upper_camel(middle))
}

/// `author_id` → `authorId`, `_the_json` → `_theJson` (v4's `camelCase`, which keeps leading
/// and trailing underscores).
pub fn camel(s: &str) -> String {
    let (lead, middle, trail) = underscores(s);
    let u = words_upper_camel(middle);
    let mut chars = u.chars();
    let body: String = match chars.next() {
        Some(f) => f.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("{lead}{body}{trail}")
}

/// A name inside a longer one, after a prefix (`create` + `Post`): v4's case change drops
/// the underscores it begins with there.
fn inner(name: &str) -> &str {
    name.trim_start_matches('_')
}

/// A name's leading underscores, its middle, and its trailing underscores.
fn underscores(s: &str) -> (&str, &str, &str) {
    let body = s.trim_start_matches('_');
    let lead = &s[..s.len() - body.len()];
    let middle = body.trim_end_matches('_');
    (lead, middle, &body[middle.len()..])
}

/// Words joined in upper camel case, every separator dropped: for a name inside a longer
/// one (`all` + `Posts`), where v4's case change sees no leading underscore.
fn words_upper_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = true;
    for c in s.chars() {
        if c == '_' || c == ' ' || c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `created_at` → `CREATED_AT`, `authorId` → `AUTHOR_ID`
pub fn constant(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev_lower = false;
    for c in s.chars() {
        if c == '-' || c == ' ' || c == '_' {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        } else {
            if c.is_uppercase() && prev_lower {
                out.push('_');
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            out.extend(c.to_uppercase());
        }
    }
    out
}

mod aggregates;
mod enums;
mod pluralize;
pub use aggregates::*;
pub use enums::enum_value;

/// PostGraphile v4's `pluralize` (the npm package's rules, on the whole name).
pub fn pluralize(s: &str) -> String {
    pluralize::plural(s)
}

/// PostGraphile v4's `singularize`.
pub fn singularize(s: &str) -> String {
    pluralize::singular(s)
}

/// v4's `_singularizedTableName`: the singular, with `_record` after a name that would
/// otherwise end in `Input` or `Patch` (so it cannot clash with an input type).
fn singular_table(table: &str) -> String {
    let s = singularize(table);
    let clashes = ["_input", "-input", "Input", "_patch", "-patch", "Patch"]
        .iter()
        .any(|suffix| s.ends_with(suffix) && s.len() > suffix.len());
    if clashes {
        format!("{s}_record")
    } else {
        s
    }
}

// ---- names of generated types and fields, given Postgres names ----

/// Table `posts` → type `Post`
pub fn table_type(table: &str) -> String {
    upper_camel(&singular_table(table))
}
/// Column `author_id` → field `authorId`
pub fn column(col: &str) -> String {
    camel(col)
}
/// `allPosts`
pub fn all_rows(table: &str) -> String {
    format!(
        "all{}",
        words_upper_camel(&pluralize(&singular_table(table)))
    )
}
/// A simple collection of a table (v4's `allRowsSimple`): `allPostsList`.
pub fn all_rows_list(table: &str) -> String {
    format!("{}List", all_rows(table))
}
/// v4 pluralises the type name for connection, edge and order types.
fn plural_type(table: &str) -> String {
    upper_camel(&pluralize(&table_type(table)))
}
pub fn connection_type(table: &str) -> String {
    format!("{}Connection", plural_type(table))
}
pub fn edge_type(table: &str) -> String {
    format!("{}Edge", plural_type(table))
}
pub fn order_by_enum(table: &str) -> String {
    format!("{}OrderBy", plural_type(table))
}
pub fn condition_type(table: &str) -> String {
    format!("{}Condition", table_type(table))
}
/// connection-filter's names: `PostFilter` (a table's or a scalar's filter), `IntListFilter`.
pub fn filter_type(type_name: &str) -> String {
    format!("{type_name}Filter")
}
pub fn filter_list_type(type_name: &str) -> String {
    format!("{type_name}ListFilter")
}
/// A one-to-many relation's filter: `UserToManyPostFilter`.
pub fn filter_many_type(table_type: &str, foreign_type: &str) -> String {
    format!("{table_type}ToMany{foreign_type}Filter")
}
/// `userByAuthorIdExists`, `postsByAuthorIdExist` (connection-filter's names).
pub fn filter_exists_field(relation_field: &str, many: bool) -> String {
    if many {
        format!("{relation_field}Exist")
    } else {
        format!("{relation_field}Exists")
    }
}
/// A range of a subtype's GraphQL type: `Int` → `IntRange` (v4's `rangeType`).
pub fn range_type(subtype: &str) -> String {
    format!("{subtype}Range")
}
/// One end of such a range: `IntRangeBound` (v4's `rangeBoundType`).
pub fn range_bound_type(subtype: &str) -> String {
    format!("{subtype}RangeBound")
}
/// The input object of an object type: `IntRange` → `IntRangeInput`.
pub fn object_input_type(type_name: &str) -> String {
    format!("{type_name}Input")
}
pub fn input_type(table: &str) -> String {
    format!("{}Input", table_type(table))
}
/// The input type of a domain over a composite type: its type name and `Input` (v4's
/// `inputType` of the domain's type, not singular).
pub fn domain_input_type(type_name: &str) -> String {
    format!("{type_name}Input")
}
pub fn patch_type(table: &str) -> String {
    format!("{}Patch", table_type(table))
}
/// `ID_ASC` / `ID_DESC`
pub fn order_by_column(col: &str, ascending: bool) -> String {
    format!(
        "{}_{}",
        constant(col),
        if ascending { "ASC" } else { "DESC" }
    )
}
pub fn order_by_primary_key(ascending: bool) -> &'static str {
    if ascending {
        "PRIMARY_KEY_ASC"
    } else {
        "PRIMARY_KEY_DESC"
    }
}
fn by_columns(cols: &[&str]) -> String {
    cols.iter()
        .map(|c| words_upper_camel(c))
        .collect::<Vec<_>>()
        .join("And")
}
/// `postById`, `userByUsername`
pub fn row_by_unique(table: &str, cols: &[&str]) -> String {
    format!("{}By{}", camel(&singular_table(table)), by_columns(cols))
}
/// Forward relation: `userByAuthorId`
pub fn forward_relation(foreign_table: &str, local_cols: &[&str]) -> String {
    format!(
        "{}By{}",
        camel(&singular_table(foreign_table)),
        by_columns(local_cols)
    )
}
/// Backward relation: `postsByAuthorId` (or singular when the key is unique)
pub fn backward_relation(table: &str, key_cols: &[&str], unique: bool) -> String {
    let base = if unique {
        singular_table(table)
    } else {
        pluralize(&singular_table(table))
    };
    format!("{}By{}", camel(&base), by_columns(key_cols))
}
/// A backward relation as a list (v4's `manyRelationByKeysSimple`): `postsByAuthorIdList`.
pub fn backward_relation_list(table: &str, key_cols: &[&str]) -> String {
    format!("{}List", backward_relation(table, key_cols, false))
}
/// A computed column returning a set, as a list (v4's `computedColumnList`): `recentPostsList`.
pub fn computed_column_list(proc_name: &str, table: &str) -> String {
    format!("{}List", computed_column(proc_name, table))
}
/// A set-returning function as a list (v4's `functionQueryNameList`): `searchPostsList`.
pub fn function_list(name: &str) -> String {
    format!("{}List", function(name))
}
/// `post_summary(post)` on table `posts` → `summary`
pub fn computed_column(proc_name: &str, table: &str) -> String {
    let prefix = format!("{}_", singularize(table));
    let prefix_table = format!("{table}_");
    let rest = proc_name
        .strip_prefix(&prefix)
        .or_else(|| proc_name.strip_prefix(&prefix_table))
        .unwrap_or(proc_name);
    camel(rest)
}
/// Whether `proc_name` is named as a computed column of `table` (`post_*` or `posts_*`).
pub fn is_computed_column_name(proc_name: &str, table: &str) -> bool {
    proc_name.starts_with(&format!("{}_", singularize(table)))
        || proc_name.starts_with(&format!("{table}_"))
}
pub fn function(name: &str) -> String {
    camel(name)
}
/// A setof-scalar function's connection: `top_tags` → `TopTagsConnection`.
pub fn scalar_function_connection(name: &str) -> String {
    format!("{}Connection", upper_camel(name))
}
/// A setof-scalar function's edge: `top_tags` → `TopTagEdge`.
pub fn scalar_function_edge(name: &str) -> String {
    format!("{}Edge", upper_camel(&singularize(name)))
}
/// The object type of a function's several outputs (OUT/INOUT/TABLE parameters):
/// `fn_two_outs` → `FnTwoOutsRecord` (v4's `recordFunctionReturnType`).
pub fn record_type(function: &str) -> String {
    format!("{}Record", upper_camel(function))
}
/// A field of such a record: the output's name, or `arg1`, `arg2`, ... counted from 1
/// among the outputs for an unnamed one, as v4 names them.
pub fn record_field(name: Option<&str>, position: usize) -> String {
    match name {
        Some(n) => argument(n),
        None => argument(&format!("arg{}", position + 1)),
    }
}
/// An unnamed input argument: `arg0`, `arg1`, ... counted from 0, as v4 counts them.
pub fn unnamed_argument(position: usize) -> String {
    format!("arg{position}")
}
pub fn function_input_type(name: &str) -> String {
    format!("{}Input", upper_camel(name))
}
pub fn function_payload_type(name: &str) -> String {
    format!("{}Payload", upper_camel(name))
}
/// The payload field holding a function mutation's result, as v4 names it: `integer`,
/// `float`, `boolean`, `string` for those scalars, else the type's name in camelCase (`jwtToken`,
/// `json`, `uuid`, `bigInt`); plural for a set or an array (`integers`, `strings`). A
/// function's one named OUT parameter names it (`answer`), and several outputs are `result`.
pub fn function_result_field(
    single_output: Option<&str>,
    record: bool,
    graphql_type: &str,
    plural: bool,
) -> String {
    let name = match graphql_type {
        _ if single_output.is_some() => camel(single_output.unwrap_or_default()),
        "Int" => "integer".to_string(),
        "Float" => "float".to_string(),
        "Boolean" => "boolean".to_string(),
        "String" => "string".to_string(),
        _ if record => "result".to_string(),
        other => words_camel(other),
    };
    if plural {
        pluralize(&name)
    } else {
        name
    }
}

/// v4's `--legacy-json-uuid` (v3's names): `JSON` is `Json`, `UUID` is `Uuid`, and so are the
/// types named after them (`JSONFilter` → `JsonFilter`, `UUIDListFilter` → `UuidListFilter`).
pub fn legacy_json_uuid(name: &str) -> Option<String> {
    [("JSON", "Json"), ("UUID", "Uuid")]
        .into_iter()
        .find_map(|(now, then)| {
            let rest = name.strip_prefix(now)?;
            matches!(rest, "" | "Filter" | "ListFilter").then(|| format!("{then}{rest}"))
        })
}

/// camelCase of a type name split into words as lodash does: an uppercase run is one word
/// before a capitalised word (`JSON` → `json`, `UUIDValue` → `uuidValue`, `BigInt` → `bigInt`).
fn words_camel(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut words: Vec<String> = vec![];
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let prev_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
        if c.is_uppercase() && !word.is_empty() && (prev_lower || next_lower) {
            words.push(std::mem::take(&mut word));
        }
        word.push(c);
    }
    words.push(word);
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let lower = w.to_lowercase();
            if i == 0 {
                lower
            } else {
                let mut cs = lower.chars();
                cs.next()
                    .map(|f| f.to_uppercase().chain(cs).collect())
                    .unwrap_or_default()
            }
        })
        .collect()
}
pub fn argument(name: &str) -> String {
    camel(name)
}
pub fn create_mutation(table: &str) -> String {
    format!("create{}", inner(&table_type(table)))
}
pub fn create_input_type(table: &str) -> String {
    format!("Create{}Input", inner(&table_type(table)))
}
pub fn create_payload_type(table: &str) -> String {
    format!("Create{}Payload", inner(&table_type(table)))
}
pub fn update_by_unique(table: &str, cols: &[&str]) -> String {
    format!("update{}By{}", inner(&table_type(table)), by_columns(cols))
}
pub fn update_by_unique_input_type(table: &str, cols: &[&str]) -> String {
    format!(
        "Update{}By{}Input",
        inner(&table_type(table)),
        by_columns(cols)
    )
}
pub fn update_payload_type(table: &str) -> String {
    format!("Update{}Payload", inner(&table_type(table)))
}
pub fn delete_by_unique(table: &str, cols: &[&str]) -> String {
    format!("delete{}By{}", inner(&table_type(table)), by_columns(cols))
}
pub fn delete_by_unique_input_type(table: &str, cols: &[&str]) -> String {
    format!(
        "Delete{}By{}Input",
        inner(&table_type(table)),
        by_columns(cols)
    )
}
pub fn delete_payload_type(table: &str) -> String {
    format!("Delete{}Payload", inner(&table_type(table)))
}
/// The field holding a global object identifier (and the argument taking one): `nodeId`, or
/// with `--classic-ids` `id` (v4's `nodeIdFieldName`).
pub fn node_id_field(classic_ids: bool) -> &'static str {
    if classic_ids {
        "id"
    } else {
        "nodeId"
    }
}
/// The name a column's fields are made from: with `--classic-ids` a column named `id` (by
/// its name or `@name`) is `rowId` (v4's classic ids inflection); its `orderBy` values keep
/// `ID_ASC`, as in v4.
pub fn classic_column_name(name: &str, classic_ids: bool) -> &str {
    if classic_ids && name == "id" {
        "row_id"
    } else {
        name
    }
}
/// `post(nodeId:)`
pub fn row_by_node_id(table: &str) -> String {
    camel(&singular_table(table))
}
/// `updatePost(input: {nodeId, ...})`
pub fn update_by_node_id(table: &str) -> String {
    format!("update{}", inner(&table_type(table)))
}
pub fn update_by_node_id_input_type(table: &str) -> String {
    format!("Update{}Input", inner(&table_type(table)))
}
pub fn delete_by_node_id(table: &str) -> String {
    format!("delete{}", inner(&table_type(table)))
}
pub fn delete_by_node_id_input_type(table: &str) -> String {
    format!("Delete{}Input", inner(&table_type(table)))
}
/// The identifier naming a table inside its rows' node ids: PostGraphile v4's node alias,
/// the plural of the Postgres table name (`person` → `people`, `network` → `networks`).
pub fn node_identifier(table: &str) -> String {
    pluralize(table)
}
/// `deletedPostId` (v4 singularises the table name here without the `_record` suffix)
pub fn deleted_node_id(table: &str) -> String {
    format!("deleted{}Id", words_upper_camel(&singularize(table)))
}
/// The patch field of an update mutation's input: `postPatch`
pub fn patch_field(table: &str) -> String {
    format!("{}Patch", payload_row(table))
}
/// Payload field holding the row: `post`
pub fn payload_row(table: &str) -> String {
    camel(&singular_table(table))
}
/// The subscription root type (`--simple-subscriptions`).
pub const SUBSCRIPTION_TYPE: &str = "Subscription";
/// v4's simple subscription field: `listen(topic:)`.
pub fn listen() -> String {
    "listen".into()
}
/// Its payload type: `ListenPayload`.
pub fn listen_payload() -> String {
    upper_camel(&format!("{}_payload", listen()))
}
/// The Postgres channel a topic is published on: v4's `postgraphile:` prefix.
pub fn listen_channel(topic: &str) -> String {
    format!("postgraphile:{topic}")
}
/// `upsertPost` (beyond v4): insert, or update on a key conflict.
pub fn upsert_mutation(table: &str) -> String {
    format!("upsert{}", inner(&table_type(table)))
}
pub fn upsert_input_type(table: &str) -> String {
    format!("Upsert{}Input", inner(&table_type(table)))
}
pub fn upsert_payload_type(table: &str) -> String {
    format!("Upsert{}Payload", inner(&table_type(table)))
}
/// The enum of a table's keys an upsert's `onConflict` names: `PostsUniqueKey`.
pub fn unique_key_enum(table: &str) -> String {
    format!("{}UniqueKey", plural_type(table))
}
/// A value of that enum: `PRIMARY_KEY`, or the key's columns (`USERNAME`, `A_AND_B`).
pub fn unique_key_value(cols: &[&str], primary: bool) -> String {
    if primary {
        "PRIMARY_KEY".into()
    } else {
        constant(&cols.join("_and_"))
    }
}
/// `createPosts` (beyond v4): many rows in one statement.
pub fn bulk_create_mutation(table: &str) -> String {
    format!("create{}", inner(&bulk_plural(table)))
}
pub fn bulk_create_input_type(table: &str) -> String {
    format!("Create{}Input", inner(&bulk_plural(table)))
}
pub fn bulk_create_payload_type(table: &str) -> String {
    format!("Create{}Payload", inner(&bulk_plural(table)))
}
/// The plural in bulk names; a noun whose plural is its singular (`staff`, `sheep`) takes
/// `List` (`createStaffList`), as v4's simple collections do, so it cannot clash with the
/// single create (`createStaff`).
fn bulk_plural(table: &str) -> String {
    let plural = plural_type(table);
    if plural == table_type(table) {
        format!("{plural}List")
    } else {
        plural
    }
}
/// The input and payload field of a bulk create: `posts`
pub fn bulk_rows_field(table: &str) -> String {
    camel(&pluralize(&singular_table(table)))
}
/// Payload field holding the row as an edge: `postEdge`
pub fn payload_edge(table: &str) -> String {
    format!("{}Edge", payload_row(table))
}
/// The collection named in v4's "No values were updated in collection 'posts'" errors.
pub fn collection(table: &str) -> String {
    pluralize(&singular_table(table))
}
/// Type name for a Postgres enum or domain (composite types are named as tables: `table_type`).
pub fn pg_type(name: &str) -> String {
    upper_camel(name)
}

/// Type name for an enum table (v4.8's `@enum` tables): the table's name (or its `@name`),
/// followed by the constraint's for an `@enum` unique constraint, as v4 names the enum it
/// makes of it (`post_status` → `PostStatus`, `colours` + `colours_slug_key` →
/// `ColoursColoursSlugKey`). `@enumName` replaces it all (the caller reads it).
pub fn enum_table(name: &str, constraint: Option<&str>) -> String {
    match constraint {
        Some(con) => upper_camel(&format!("{name}_{con}")),
        None => upper_camel(name),
    }
}

/// GraphQL names must match `[_A-Za-z][_0-9A-Za-z]*`; juniper panics on anything else.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && !name.starts_with("__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_mutation_result_fields_as_v4_names_them() {
        for (ty, plural, name) in [
            ("Int", false, "integer"),
            ("Int", true, "integers"),
            ("String", true, "strings"),
            ("Float", false, "float"),
            ("Boolean", false, "boolean"),
            ("BigInt", true, "bigInts"),
            ("JSON", false, "json"),
            ("UUID", false, "uuid"),
            ("JwtToken", false, "jwtToken"),
            ("InternetAddress", false, "internetAddress"),
            ("Post", true, "posts"),
            ("UUIDValue", false, "uuidValue"),
        ] {
            assert_eq!(function_result_field(None, false, ty, plural), name, "{ty}");
        }
    }

    #[test]
    fn postgraphile_names() {
        assert_eq!(table_type("posts"), "Post");
        assert_eq!(table_type("users"), "User");
        assert_eq!(table_type("categories"), "Category");
        assert_eq!(table_type("post_tags"), "PostTag");
        assert_eq!(all_rows("posts"), "allPosts");
        assert_eq!(all_rows("person"), "allPeople");
        assert_eq!(connection_type("users"), "UsersConnection");
        assert_eq!(order_by_enum("posts"), "PostsOrderBy");
        assert_eq!(condition_type("posts"), "PostCondition");
        assert_eq!(column("author_id"), "authorId");
        assert_eq!(column("created_at"), "createdAt");
        assert_eq!(order_by_column("created_at", true), "CREATED_AT_ASC");
        assert_eq!(row_by_unique("posts", &["id"]), "postById");
        assert_eq!(row_by_unique("users", &["username"]), "userByUsername");
        assert_eq!(forward_relation("users", &["author_id"]), "userByAuthorId");
        assert_eq!(
            backward_relation("posts", &["author_id"], false),
            "postsByAuthorId"
        );
        assert_eq!(computed_column("post_summary", "posts"), "summary");
        assert_eq!(function("current_user_id"), "currentUserId");
        assert_eq!(
            function_result_field(None, false, "JwtToken", false),
            "jwtToken"
        );
        assert_eq!(create_mutation("posts"), "createPost");
        assert_eq!(update_by_unique("posts", &["id"]), "updatePostById");
        assert_eq!(
            delete_by_unique_input_type("posts", &["id"]),
            "DeletePostByIdInput"
        );
        assert_eq!(deleted_node_id("posts"), "deletedPostId");
        assert_eq!(enum_value("in_progress"), "IN_PROGRESS");
        assert_eq!(pg_type("jwt_token"), "JwtToken");
    }

    #[test]
    fn enum_values_as_v4_names_them() {
        for (label, name) in [
            ("a1", "A1"),
            ("in_review", "IN_REVIEW"),
            ("fooBar", "FOO_BAR"),
            ("ABCDef", "ABCDEF"),
            ("foo.bar", "FOO_BAR"),
            ("foo--bar", "FOO_BAR"),
            ("_private", "_PRIVATE"),
            ("__dunder__", "__DUNDER__"),
            ("2x", "_2X"),
            ("caf\u{e9}", "CAF_"),
            ("", "_EMPTY_"),
            (">=", "GREATER_THAN_OR_EQUAL"),
            ("_", "UNDERSCORE"),
            ("*", "ASTERISK"),
            ("*foo", "ASTERISK_FOO"),
            ("foo*", "FOO_ASTERISK"),
            ("a*b", "A_ASTERISK_B"),
        ] {
            assert_eq!(enum_value(label), name, "{label}");
        }
        assert_eq!(
            enum_table("colours", Some("colours_slug_key")),
            "ColoursColoursSlugKey"
        );
        assert_eq!(enum_table("shirt_sizes", None), "ShirtSizes");
    }

    #[test]
    fn plural_and_singular() {
        for (s, p) in [
            ("post", "posts"),
            ("category", "categories"),
            ("box", "boxes"),
            ("person", "people"),
            ("status", "statuses"),
            ("key", "keys"),
        ] {
            assert_eq!(pluralize(s), p);
            assert_eq!(singularize(p), s);
        }
    }

    #[test]
    fn bulk_creates_of_uncountable_nouns_have_names_of_their_own() {
        assert_eq!(bulk_create_mutation("posts"), "createPosts");
        assert_eq!(bulk_create_mutation("staff"), "createStaffList");
        assert_eq!(create_mutation("staff"), "createStaff");
        assert_eq!(bulk_create_input_type("sheep"), "CreateSheepListInput");
        assert_eq!(bulk_create_payload_type("staff"), "CreateStaffListPayload");
    }

    #[test]
    fn singular_and_plural_names_as_postgraphile_v4() {
        assert_eq!(table_type("houses"), "House");
        assert_eq!(table_type("people"), "Person");
        assert_eq!(all_rows("people"), "allPeople");
        assert_eq!(table_type("statuses"), "Status");
        assert_eq!(connection_type("statuses"), "StatusesConnection");
        assert_eq!(table_type("data"), "Datum");
        assert_eq!(all_rows("data"), "allData");
        // A name ending in Input/Patch gets `_record`, so it cannot clash with an input type.
        assert_eq!(table_type("reserved_patch"), "ReservedPatchRecord");
        assert_eq!(patch_type("reserved"), "ReservedPatch");
        assert_eq!(all_rows("reserved_input"), "allReservedInputRecords");
        assert_eq!(deleted_node_id("reserved_patch"), "deletedReservedPatchId");
        assert_eq!(node_identifier("network"), "networks");
        assert_eq!(node_identifier("posts"), "posts");
        assert_eq!(node_identifier("person"), "people");
    }

    #[test]
    fn names_are_checked() {
        assert!(is_valid_name("allPosts"));
        assert!(!is_valid_name("1abc"));
        assert!(!is_valid_name("a-b"));
        assert!(!is_valid_name("__x"));
    }
}
