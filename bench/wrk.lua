-- wrk script for the load benchmark (benches/load.rs): every request is a POST of the
-- GraphQL body stored in the file $BENCH_BODY_FILE, with a Bearer token when $BENCH_TOKEN
-- is set. The body is read once per wrk thread, so requests cost no Lua work at all.
--
-- By hand: BENCH_BODY_FILE=body.json wrk -t2 -c16 -d10s --latency -s bench/wrk.lua \
--            http://127.0.0.1:5000/graphql

local path = os.getenv("BENCH_BODY_FILE")
assert(path and path ~= "", "set BENCH_BODY_FILE to a file holding the JSON request body")
local file = assert(io.open(path, "rb"))
wrk.body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
