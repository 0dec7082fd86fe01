-- The values of one enum table (PostGraphile v4.8's `@enum` tables), read at startup.
-- sql::enum_table_values fills in the quoted identifiers: {class_oid} (a number), {key} (the text
-- primary key column), {description} (the `description` column, or `null`) and {table};
-- several tables are joined with `union all` into one statement. No `order by`: v4 reads
-- the rows as the table returns them.
select {class_oid}::oid as class_oid, ({key})::text as value, ({description})::text as description from {table}
