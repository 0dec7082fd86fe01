// The client of docs/browser-session.md: Apollo Client with TokenRefreshLink, the access token in
// sessionStorage, the refresh token and the fingerprint in HttpOnly cookies, subscriptions over
// graphql-ws and subscriptions-transport-ws, cross-tab sign-out, read-your-writes behind read
// replicas (the position link). `window.app` lets the test drive it.
import { ApolloClient, ApolloLink, InMemoryCache, HttpLink, from, gql } from "@apollo/client/core";
import { setContext } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { WebSocketLink } from "@apollo/client/link/ws";
import { TokenRefreshLink } from "apollo-link-token-refresh";
import { createClient } from "graphql-ws";
import { SubscriptionClient } from "subscriptions-transport-ws";

const URI = "/graphql";
const WS = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${URI}`;
const REFRESH = "mutation { refresh(input: {}) { authToken { accessToken } } }";
// Refresh this long before the access token expires.
const MARGIN_MS = 2000;

const token = () => sessionStorage.getItem("token");
const expiresAt = () => (token() ? JSON.parse(atob(token().split(".")[1])).exp * 1000 : 0);
const fresh = () => !token() || Date.now() < expiresAt() - MARGIN_MS;

const post = (query, variables, extra = {}) =>
  fetch(URI, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...extra },
    body: JSON.stringify({ query, variables }),
  });

// Every tab of the browser sends the same refresh cookie, and each use rotates it: two tabs
// refreshing at once would present one token twice, which the server takes for theft (the
// family is revoked). A lock shared by the browser's tabs makes their refreshes take turns.
const refreshPost = () =>
  navigator.locks.request("postgraph-refresh", async () => {
    const r = await post(REFRESH);
    // Read within the lock: the rotated cookie is stored before the next tab's turn.
    const text = await r.text();
    return new Response(text, { status: r.status, headers: r.headers });
  });

let legacyClient;

function setToken(t) {
  sessionStorage.setItem("token", t);
  // The open legacy socket takes the new token: a new connection_init re-authenticates it.
  legacyClient?.client?.send(
    JSON.stringify({ type: "connection_init", payload: { headers: { Authorization: `Bearer ${t}` } } }),
  );
}

function signedOut() {
  sessionStorage.removeItem("token");
}

// One refresh at a time for the tab; the refresh cookie goes with it.
let refreshing = null;
function refresh() {
  refreshing ??= refreshPost()
    .then((r) => r.json())
    .then((body) => {
      const t = body.data?.refresh?.authToken?.accessToken;
      if (!t) {
        signedOut();
        throw new Error(body.errors?.[0]?.extensions?.code ?? "no token");
      }
      setToken(t);
      return t;
    })
    .finally(() => (refreshing = null));
  return refreshing;
}

const refreshLink = new TokenRefreshLink({
  accessTokenField: "refresh",
  isTokenValidOrUndefined: async () => fresh(),
  fetchAccessToken: refreshPost,
  handleFetch: (payload) => setToken(payload.authToken.accessToken),
  handleError: () => signedOut(),
});

const authLink = setContext((_, { headers }) =>
  token() ? { headers: { ...headers, Authorization: `Bearer ${token()}` } } : { headers },
);

// Read-your-writes (docs/deploying.md): with read replicas, a mutation's response carries the
// WAL position of its commit in a header; sent back with every later request (and socket
// operation), it makes postgraph read where this tab's writes are visible.
const POSITION = "x-postgraph-lsn";
const position = () => sessionStorage.getItem(POSITION);
const positionLink = new ApolloLink((operation, forward) => {
  if (position()) {
    operation.setContext(({ headers = {} }) => ({ headers: { ...headers, [POSITION]: position() } }));
  }
  return forward(operation).map((result) => {
    const returned = operation.getContext().response?.headers?.get(POSITION);
    if (returned) sessionStorage.setItem(POSITION, returned);
    return result;
  });
});
// Over a socket the position travels in the operation's extensions.
const socketPositionLink = new ApolloLink((operation, forward) => {
  if (position()) operation.extensions[POSITION] = position();
  return forward(operation);
});

const client = new ApolloClient({
  link: from([refreshLink, authLink, positionLink, new HttpLink({ uri: URI, credentials: "same-origin" })]),
  cache: new InMemoryCache(),
  defaultOptions: { query: { fetchPolicy: "network-only" } },
});

// graphql-ws: connectionParams is a function (each connection sends the current token,
// refreshed first when needed). graphql-ws treats 4401 (expired, revoked) as fatal and ends the
// subscriptions with it: `subscribe` below starts them again after a refresh.
const wsClient = createClient({
  url: WS,
  lazy: true,
  connectionParams: async () => {
    if (!fresh()) await refresh();
    return token() ? { headers: { Authorization: `Bearer ${token()}` } } : {};
  },
  shouldRetry: (e) => e?.code === 1006,
  retryAttempts: 10,
  retryWait: () => new Promise((r) => setTimeout(r, 200)),
});
const modernLink = socketPositionLink.concat(new GraphQLWsLink(wsClient));

function legacyLink() {
  legacyClient ??= new SubscriptionClient(WS, {
    reconnect: true,
    lazy: true,
    connectionParams: () => ({ headers: { Authorization: `Bearer ${token()}` } }),
  });
  return socketPositionLink.concat(new WebSocketLink(legacyClient));
}

// Silent refresh ahead of expiry, so sockets and the next request always hold a valid token.
setInterval(() => {
  if (token() && !fresh()) refresh().catch(() => {});
}, 250);

// Cross-tab sign-out: another tab's sign-out arrives as a storage event.
window.addEventListener("storage", (e) => {
  if (e.key === "signed-out") signedOut();
});

const TOKENS = "authToken { accessToken }";

async function mutate(mutation, variables, field) {
  // Signing in starts a new session: the old access token (perhaps revoked: every request
  // carrying it would be a 401) is not sent.
  signedOut();
  const r = await client.mutate({ mutation: gql(mutation), variables, errorPolicy: "all" });
  const t = r.data?.[field]?.authToken?.accessToken;
  if (t) setToken(t);
  return { ok: !!t, errors: r.errors?.map((e) => e.extensions?.code) };
}

// A failure as the test reads it: the HTTP status and the error code.
function failure(e) {
  const n = e.networkError;
  return {
    status: n?.statusCode ?? 200,
    code: n?.result?.errors?.[0]?.extensions?.code ?? e.graphQLErrors?.[0]?.extensions?.code,
  };
}

window.app = {
  token,
  position,
  signup: (username, email, password) =>
    mutate(
      `mutation($u: String!, $e: String!, $p: String!) { signupWithRefresh(input: {username: $u, email: $e, password: $p}) { ${TOKENS} } }`,
      { u: username, e: email, p: password },
      "signupWithRefresh",
    ),
  signin: (email, password) =>
    mutate(
      `mutation($e: String!, $p: String!) { signinWithRefresh(input: {email: $e, password: $p}) { ${TOKENS} } }`,
      { e: email, p: password },
      "signinWithRefresh",
    ),
  async me() {
    try {
      const r = await client.query({ query: gql("{ me { username } }") });
      return { status: 200, username: r.data.me?.username ?? null };
    } catch (e) {
      return failure(e);
    }
  },
  // A request with a given token (a copied one), outside the client's links.
  async meWith(t) {
    const r = await post("{ me { username } }", {}, { Authorization: `Bearer ${t}` });
    const body = await r.json();
    return { status: r.status, code: body.errors?.[0]?.extensions?.code, username: body.data?.me?.username };
  },
  refresh: () => refresh().then(() => ({ ok: true }), (e) => ({ ok: false, code: e.message })),
  events: { modern: [], legacy: [], errors: [] },
  subscribe(kind) {
    const link = kind === "modern" ? modernLink : legacyLink();
    const c = new ApolloClient({ link, cache: new InMemoryCache() });
    const start = () =>
      c.subscribe({ query: gql('subscription { listen(topic: "new_posts") { relatedNodeId } }') }).subscribe({
        next: (r) => window.app.events[kind].push(r.data?.listen?.relatedNodeId ?? null),
        error: (e) => {
          // graphql-ws ends the subscription on 4401 (expired or revoked), whatever
          // shouldRetry says: refresh, then subscribe again (a refused refresh signs out).
          if (e?.code === 4401 || /closed with event 4401/.test(e?.message ?? "")) {
            refresh().then(start, () => window.app.events.errors.push(`${kind}: signed out`));
            return;
          }
          window.app.events.errors.push(`${kind}: ${e?.message ?? e?.code ?? e}`);
        },
      });
    start();
    return true;
  },
  createPost: (title) =>
    client
      .mutate({
        mutation: gql("mutation($t: String!) { createPost(input: {post: {title: $t}}) { post { id } } }"),
        variables: { t: title },
      })
      .then((r) => r.data.createPost.post.id),
  async signout() {
    await client.mutate({ mutation: gql("mutation { signout(input: {}) { clientMutationId } }") });
    signedOut();
    localStorage.setItem("signed-out", Date.now().toString());
    return true;
  },
  signoutEverywhere: () =>
    client
      .mutate({ mutation: gql("mutation { signoutEverywhere(input: {}) { clientMutationId } }") })
      .then(() => true),
};
