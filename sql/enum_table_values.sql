-- The values of one enum table (PostGraphile v4.8's `@enum` tables), read at startup.
-- sql::enum_table_values fills in the quoted identifiers: {source} (the enum's place in the statement), {key} (the text
-- primary key column), {description} (the `description` column, or `null`) and {table};
-- several tables are joined with `union all` into one statement. No `order by`: v4 reads
-- the rows as the table returns them.
select {source}::int as source, ({key})::text as value, ({description})::text as description from {table}
