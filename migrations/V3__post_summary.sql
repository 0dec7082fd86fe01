-- A computed column: a STABLE function taking a post becomes the field Post.summary.
create function app_public.post_summary(post app_public.posts, length integer default 50)
  returns text
  language sql stable
as $$
  select case
    when char_length(post.body) > length then left(post.body, length) || '…'
    else post.body
  end
$$;
comment on function app_public.post_summary(app_public.posts, integer) is
  'The start of the post''s body, cut after `length` characters.';
grant execute on function app_public.post_summary(app_public.posts, integer) to app_anonymous;
