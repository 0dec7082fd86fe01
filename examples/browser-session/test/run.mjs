// The browser session in a real browser: postgraph (the example app, embedded database) behind a
// tiny same-origin server for the page, Debian's Chromium driven by puppeteer-core. Exits non-zero
// on the first failed check. Usage: node test/run.mjs [path/to/postgraph]
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const bin = process.argv[2] ?? path.resolve(root, "../../target/debug/postgraph");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const PASSWORD = "correct horse battery";
// The example database may hold demo users: a name of this run's own.
const USER = `visitor${Date.now()}`;
const EMAIL = `${USER}@example.com`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failed = false;
function check(what, ok, detail) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${ok ? "" : `: ${JSON.stringify(detail)}`}`);
  if (!ok) failed = true;
  return ok;
}
/** Waits (within `ms`) until `f()` is truthy; returns its last value. */
async function until(f, ms = 15000) {
  const end = Date.now() + ms;
  let v;
  while (!(v = await f()) && Date.now() < end) await sleep(100);
  return v;
}

// postgraph: short access tokens (4 s, no leeway) so that refreshes happen during the test; a
// read replica that does not answer (so reads fall back to the primary), for the position header.
const server = spawn(
  bin,
  [
    "demo", "--port", "0", "--jwt-fingerprint", "--jwt-refresh-cookie",
    "--jwt-expires-in", "4s", "--jwt-leeway", "0", "--simple-subscriptions",
    "--read-replica", "host=127.0.0.1 port=1 dbname=none connect_timeout=1",
  ],
  { stdio: ["ignore", "pipe", "inherit"], env: { RUST_LOG: "warn", ...process.env } },
);
const api = await new Promise((resolve, reject) => {
  const lines = readline.createInterface({ input: server.stdout });
  lines.on("line", (l) => {
    const m = l.match(/GraphQL:\s+(\S+)/);
    if (m) resolve(new URL(m[1]));
  });
  server.on("exit", (code) => reject(new Error(`postgraph exited (${code})`)));
  setTimeout(() => reject(new Error("postgraph did not start")), 90000);
});

// One origin for page and API: the page's files, and /graphql passed through (HTTP and upgrades).
const files = { "/": ["index.html", "text/html"], "/app.js": ["dist/app.js", "text/javascript"] };
// Server-side rendering: the page request's cookies go to the API, which refreshes; the page is
// rendered as the user, and the rotated cookies go back to the browser with it.
async function ssr(req, res) {
  const ask = (query, token) =>
    fetch(api, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie: req.headers.cookie ?? "",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query }),
    });
  const r = await ask("mutation { refresh(input: {}) { authToken { accessToken } } }");
  const token = (await r.json()).data?.refresh?.authToken?.accessToken;
  const me = token ? (await (await ask("{ me { username } }", token)).json()).data?.me : null;
  res.writeHead(200, { "content-type": "text/html", "set-cookie": r.headers.getSetCookie() });
  res.end(`<p id="user">${me?.username ?? ""}</p>`);
}

// The read-your-writes positions the API sent (responses) and was sent (requests), in order.
const positions = { sent: [], returned: [] };
const front = http.createServer((req, res) => {
  if (req.url === "/ssr") {
    ssr(req, res).catch((e) => res.writeHead(500).end(String(e)));
    return;
  }
  if (req.url.startsWith("/graphql")) {
    positions.sent.push(req.headers["x-postgraph-lsn"] ?? null);
    const upstream = http.request(
      { host: api.hostname, port: api.port, path: req.url, method: req.method, headers: req.headers },
      (r) => {
        if (r.headers["x-postgraph-lsn"]) positions.returned.push(r.headers["x-postgraph-lsn"]);
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(upstream);
    return;
  }
  const f = files[req.url];
  if (!f) return res.writeHead(404).end();
  res.writeHead(200, { "content-type": f[1] }).end(fs.readFileSync(path.join(root, f[0])));
});
front.on("upgrade", (req, socket, head) => {
  const upstream = net.connect(api.port, api.hostname, () => {
    const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n`);
    upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
  upstream.on("error", () => socket.destroy());
  socket.on("error", () => upstream.destroy());
});
await new Promise((r) => front.listen(0, "127.0.0.1", r));
// localhost, not 127.0.0.1: Chromium treats it as a secure context, so the Secure __Host-
// cookies are kept over plain http.
const origin = `http://localhost:${front.address().port}`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "postgraph-chromium-"));
const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  userDataDir: profile,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
  ],
});

async function tab(context) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  if (process.env.DEBUG) page.on("console", (m) => console.log(`console: ${m.text()}`));
  await page.goto(origin, { waitUntil: "load" });
  await page.waitForFunction(() => window.app);
  return page;
}
const run = (page, f, ...args) => page.evaluate(f, ...args);
const cookies = async (page) =>
  Object.fromEntries((await page.cookies()).map((c) => [c.name, c]));

try {
  const laptop = browser.defaultBrowserContext();
  const tab1 = await tab(laptop);
  const tab2 = await tab(laptop);

  // Sign-up: a session in HttpOnly cookies no script reads; the access token in sessionStorage.
  const up = await run(tab1, (u, e, p) => app.signup(u, e, p), USER, EMAIL, PASSWORD);
  check("sign-up", up.ok, up);
  let jar = await cookies(tab1);
  check("fingerprint and refresh cookies are HttpOnly, Secure, SameSite=Strict",
    ["__Host-fgp", "__Host-refresh"].every((n) => jar[n]?.httpOnly && jar[n]?.secure && jar[n]?.sameSite === "Strict"),
    Object.keys(jar));
  check("scripts see no cookie", (await run(tab1, () => document.cookie)) === "", "");
  check("me in tab 1", (await run(tab1, () => app.me())).username === USER, "");

  // The position link: the sign-up's position (its response header) went with the next request.
  const written = await run(tab1, () => app.position());
  check("a mutation's x-postgraph-lsn is kept", /^[0-9A-F]+\/[0-9A-F]+$/.test(written ?? "") &&
    positions.returned.includes(written), { written, positions });
  check("and sent with the next requests", positions.sent.includes(written), positions.sent);

  // Two tabs: tab 2 signs in, both keep working; one fingerprint for the browser.
  const fgp = jar["__Host-fgp"].value;
  const inn = await run(tab2, (e, p) => app.signin(e, p), EMAIL, PASSWORD);
  check("sign-in in tab 2", inn.ok, inn);
  check("one fingerprint for both tabs", (await cookies(tab2))["__Host-fgp"].value === fgp, "");
  check("tab 1 still signed in", (await run(tab1, () => app.me())).username === USER, "");
  check("tab 2 signed in", (await run(tab2, () => app.me())).username === USER, "");

  // Silent refresh: after the 4-second token's expiry, requests still succeed with a new token.
  const t0 = await run(tab1, () => app.token());
  await sleep(5000);
  const me = await run(tab1, () => app.me());
  const t1 = await run(tab1, () => app.token());
  check("silent refresh", me.username === USER && t1 !== t0, me);
  check("tab 2 after refreshes", (await run(tab2, () => app.me())).username === USER, "");

  // A subscription on each socket library survives refreshes (graphql-ws: 4401 and reconnect
  // with a refreshed token; subscriptions-transport-ws: connection_init with the new token).
  await run(tab1, () => app.subscribe("modern"));
  await run(tab1, () => app.subscribe("legacy"));
  await sleep(1000);
  await run(tab1, () => app.createPost("first"));
  check("an event on both sockets", await until(() => run(tab1, () =>
    app.events.modern.length >= 1 && app.events.legacy.length >= 1)), "");
  await sleep(6000);
  await run(tab1, () => app.createPost("second"));
  const events = await until(() => run(tab1, () =>
    app.events.modern.length >= 2 && app.events.legacy.length >= 2 && app.events), 20000);
  check("events after the token was refreshed, on both sockets", !!events,
    await run(tab1, () => app.events));

  // Another browser with copies: the access token is refused without the fingerprint cookie.
  const other = await browser.createBrowserContext();
  const thief = await tab(other);
  const stolen = await run(tab1, () => app.token());
  const refused = await run(thief, (t) => app.meWith(t), stolen);
  check("a copied access token is refused in another browser",
    refused.status === 401 && refused.code === "JWT_FINGERPRINT", refused);

  // Server-side rendering (the /ssr page): rendered as the user from the browser's cookies alone;
  // the rotated cookies it passes back keep the browser's session going.
  // The renderer refreshes outside the tabs' shared lock: no tab may be refreshing meanwhile
  // (two uses of one refresh token are reuse), so the other tab goes, and this one has a fresh
  // token when it navigates.
  await tab2.close();
  await run(tab1, () => app.refresh());
  await tab1.goto(`${origin}/ssr`, { waitUntil: "load" });
  const rendered = await tab1.$eval("#user", (e) => e.textContent);
  check("server-side render as the user", rendered === USER, rendered);
  await tab1.goto(origin, { waitUntil: "load" });
  await tab1.waitForFunction(() => window.app);
  check("the browser refreshes with the cookies the render passed back",
    (await run(tab1, () => app.refresh())).ok, "");

  // A copied refresh token, used by the other browser: refused, and the family revoked.
  jar = await cookies(tab1);
  if (!check("the browser holds a refresh cookie", !!jar["__Host-refresh"], Object.keys(jar))) {
    throw new Error("no refresh cookie");
  }
  await thief.setCookie({ ...jar["__Host-refresh"], url: origin });
  const stolenRefresh = await run(thief, () => app.refresh());
  check("a copied refresh token is refused in another browser",
    !stolenRefresh.ok && stolenRefresh.code === "SESSION_REFUSED", stolenRefresh);
  const victim = await run(tab1, () => app.refresh());
  check("the stolen token's family is revoked", !victim.ok, victim);

  // Reuse of a rotated refresh token (same browser) revokes the family too.
  await run(tab1, (e, p) => app.signin(e, p), EMAIL, PASSWORD);
  const spent = (await cookies(tab1))["__Host-refresh"];
  check("refresh", (await run(tab1, () => app.refresh())).ok, "");
  await tab1.setCookie({ ...spent, url: origin });
  check("a reused refresh token is refused", !(await run(tab1, () => app.refresh())).ok, "");

  // Sign-out everywhere: the other browser's next request is a 401.
  const phone = await tab(await browser.createBrowserContext());
  check("sign-in on the phone", (await run(phone, (e, p) => app.signin(e, p), EMAIL, PASSWORD)).ok, "");
  await run(tab1, (e, p) => app.signin(e, p), EMAIL, PASSWORD);
  check("sign-out everywhere", await run(tab1, () => app.signoutEverywhere()), "");
  const revoked = await run(phone, () => app.meWith(app.token()));
  check("the phone sees 401 JWT_REVOKED", revoked.status === 401 && revoked.code === "JWT_REVOKED", revoked);

  // Sign-out: the cookies are gone, and the other tab drops its token (storage event).
  const tab3 = await tab(laptop);
  await run(tab1, (e, p) => app.signin(e, p), EMAIL, PASSWORD);
  await run(tab3, (e, p) => app.signin(e, p), EMAIL, PASSWORD);
  await run(tab1, () => app.signout());
  jar = await cookies(tab1);
  check("sign-out clears the session cookies", !jar["__Host-fgp"] && !jar["__Host-refresh"], Object.keys(jar));
  check("the other tab is signed out", await until(() => run(tab3, () => app.token() === null)), "");
} catch (e) {
  check("the run", false, String(e?.stack ?? e));
} finally {
  await browser.close().catch(() => {});
  front.close();
  server.kill("SIGTERM");
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(failed ? "browser session: FAILED" : "browser session: ok");
process.exit(failed ? 1 : 0);
