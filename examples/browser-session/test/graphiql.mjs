// GraphiQL as served by postgraph, in a real browser (Debian's Chromium, puppeteer-core): the page
// loads with every request to postgraph itself (anything else is aborted and reported, so this is
// GraphiQL offline), breaks none of its content security policy, runs a query set in its editor,
// and sends the Authorization header pasted into its header editor. GraphQL is on another route
// (-q), which GraphiQL follows. Exits non-zero on the first failed check.
// Usage: node test/graphiql.mjs [path/to/postgraph]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.argv[2] ?? path.resolve(here, "../../../target/debug/postgraph");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const USER = `ide${Date.now()}`;

let failed = false;
function check(what, ok, detail) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${ok ? "" : `: ${JSON.stringify(detail)}`}`);
  if (!ok) failed = true;
  return ok;
}

const server = spawn(bin, ["demo", "--port", "0", "--graphql", "/api/graphql"], {
  stdio: ["ignore", "pipe", "inherit"],
  env: { RUST_LOG: "warn", ...process.env },
});
const urls = await new Promise((resolve, reject) => {
  const found = {};
  readline.createInterface({ input: server.stdout }).on("line", (l) => {
    const m = l.match(/(GraphQL|GraphiQL):\s+(\S+)/);
    if (m) found[m[1]] = new URL(m[2]);
    if (found.GraphQL && found.GraphiQL) resolve(found);
  });
  server.on("exit", (code) => reject(new Error(`postgraph exited (${code})`)));
  setTimeout(() => reject(new Error("postgraph did not start")), 90000);
});
const origin = urls.GraphiQL.origin;

// A token to paste, as a user gets one: from the signup mutation.
const signup = await fetch(urls.GraphQL, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    query: `mutation { signup(input: {username: "${USER}", email: "${USER}@example.com", password: "correct horse battery"}) { jwtToken } }`,
  }),
}).then((r) => r.json());
const token = signup.data?.signup?.jwtToken;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "postgraph-graphiql-"));
const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  userDataDir: profile,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
  ],
});

/** The editor under `selector` (CodeMirror 5, as GraphiQL 3 has it): set its text, or read it. */
const editor = (page, selector, text) =>
  page.evaluate((s, t) => {
    const cm = document.querySelector(s)?.CodeMirror;
    if (t !== undefined) cm.setValue(t);
    return cm?.getValue();
  }, selector, text);
const QUERY = ".graphiql-query-editor .CodeMirror";
const HEADERS = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror";
const RESPONSE = ".graphiql-response .CodeMirror";

/** Runs what the query editor holds; the response editor's JSON once it has some. */
async function execute(page) {
  await editor(page, RESPONSE, "");
  await page.click(".graphiql-execute-button");
  await page.waitForFunction((s) => document.querySelector(s)?.CodeMirror.getValue().includes("{"),
    { timeout: 15000 }, RESPONSE);
  return JSON.parse(await editor(page, RESPONSE));
}

try {
  check("signed up for a token", typeof token === "string", signup);
  const page = await browser.newPage();
  const elsewhere = [];
  const errors = [];
  await page.setRequestInterception(true);
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.protocol === "data:" || url.origin === origin) return r.continue();
    elsewhere.push(r.url());
    return r.abort();
  });
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.evaluateOnNewDocument(() => {
    window.violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const loaded = await page.goto(urls.GraphiQL.href, { waitUntil: "networkidle0" });
  check("the page is served with a content security policy",
    (loaded.headers()["content-security-policy"] ?? "").includes("default-src 'none'"), loaded.headers());
  await page.waitForSelector(QUERY, { timeout: 20000 });
  check("GraphiQL starts", true, "");

  await editor(page, QUERY, "{ allPosts(first: 1) { totalCount } }");
  const posts = await execute(page);
  check("a query from the editor returns data", Number.isInteger(posts.data?.allPosts?.totalCount), posts);

  const anonymous = await editor(page, QUERY, "{ me { username } }") && (await execute(page));
  check("without a token, no user", anonymous.data?.me === null, anonymous);
  const tab = await page.$$eval("button", (bs) => bs.findIndex((b) => b.textContent.trim() === "Headers"));
  if (tab >= 0) await (await page.$$("button"))[tab].click();
  check("the header editor is open", !!(await page.$(HEADERS)), "");
  await editor(page, HEADERS, JSON.stringify({ Authorization: `Bearer ${token}` }));
  const me = await execute(page);
  check("the pasted Authorization header is sent", me.data?.me?.username === USER, me);

  check("nothing requested from elsewhere (works offline)", elsewhere.length === 0, elsewhere);
  const violations = await page.evaluate(() => window.violations);
  check("no content security policy violation", violations.length === 0, violations);
  check("no error in the console", errors.length === 0, errors);
} catch (e) {
  check("the run", false, String(e?.stack ?? e));
} finally {
  await browser.close().catch(() => {});
  server.kill("SIGTERM");
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(failed ? "graphiql: FAILED" : "graphiql: ok");
process.exit(failed ? 1 : 0);
