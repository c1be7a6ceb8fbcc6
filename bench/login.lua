-- wrk script for autho's login: every request carries the next seeded
-- "api_token partner_token" pair of the file named by BENCH_PAIRS, so that
-- no two requests in a row use the same token (no cache can flatter a
-- server). Each wrk thread starts at its own offset in the list.
--
-- BENCH_MODE=badsum spoils the last checksum character of the partner
-- token: every answer is then 401 "02", refused before any database work.
-- BENCH_MODE=transport sends the same bodies to a path no route serves:
-- every answer is a 404 envelope, so the server's cost per request is what
-- HTTP itself and the middleware cost, the floor under any answer.
--
-- BENCH_MODE=oauth2 sends the same pairs to the OAuth2 token endpoint
-- instead: a client credentials form, the partner token as client_id and
-- the API token as client_secret by HTTP Basic (client_secret_basic), as
-- golang.org/x/oauth2 sends them. The headers are read, line k for pair k,
-- from the file named by BENCH_BASIC (bench/basic makes it), so that this
-- mode's init costs what the login's does. Every answer is a 200 and a JWT.
--
-- BENCH_ONCE=N (N = wrk's thread count) sends every pair of the list once,
-- thread t taking pairs t, t+N, t+2N...; then the thread stops and creates
-- the file BENCH_ONCE_DONE.t, for bench/run, which ends wrk once all N
-- exist (wrk itself would idle until its duration is over). bench/run uses
-- it to give every seeded token its first login before anything is
-- measured.
--
-- done() prints one "BENCH" line that bench/run reads.

local pairs_file = os.getenv("BENCH_PAIRS")
local mode = os.getenv("BENCH_MODE") or "ok"

local bodies = {}
local auths = {} -- BENCH_MODE=oauth2: each pair's Authorization header
local threads = 0
local once = tonumber(os.getenv("BENCH_ONCE") or "")

local function load()
  local f = assert(io.open(pairs_file, "r"))
  for line in f:lines() do
    local api, ptn = line:match("^(%S+) (%S+)$")
    if api then
      if mode == "badsum" then
        local last = ptn:sub(-1)
        ptn = ptn:sub(1, -2) .. (last == "0" and "1" or "0")
      end
      if mode == "oauth2" then
        bodies[#bodies + 1] = "grant_type=client_credentials"
      else
        bodies[#bodies + 1] = '{"api_token":"' .. api .. '","partner_token":"' .. ptn .. '"}'
      end
    end
  end
  f:close()
  assert(#bodies > 0, "no pairs in " .. pairs_file)
  if mode == "oauth2" then
    local b = assert(io.open(os.getenv("BENCH_BASIC"), "r"))
    for line in b:lines() do
      auths[#auths + 1] = line
    end
    b:close()
    assert(#auths == #bodies, "BENCH_BASIC does not match BENCH_PAIRS")
  end
end

-- setup runs in the main Lua state once per thread, before the thread's
-- own state runs init; thread:set makes "thread_id" a global there.
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

local i

function init(args)
  load()
  -- Threads start a golden-ratio fraction of the list apart, so that any
  -- number of them stay far from each other's tokens.
  i = math.floor(#bodies * ((thread_id * 0.6180339887) % 1))
  wrk.method = "POST"
  wrk.path = "/v1/autho/apitoken/login/"
  if mode == "transport" then
    wrk.path = "/v1/autho/bench-transport/"
  end
  wrk.headers["Content-Type"] = "application/json"
  if mode == "oauth2" then
    wrk.path = "/oauth2/token"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
end

-- wrk.format takes the headers it is given in place of wrk.headers, so
-- the oauth2 mode's carry its Content-Type too.
local oauth_headers = {}

-- format is pair k's request.
local function format(k)
  if mode == "oauth2" then
    oauth_headers["Content-Type"] = wrk.headers["Content-Type"]
    oauth_headers["Authorization"] = auths[k]
    return wrk.format(nil, nil, oauth_headers, bodies[k])
  end
  return wrk.format(nil, nil, nil, bodies[k])
end

local sent, finished = 0, false

function request()
  if once then
    local k = thread_id + sent * once + 1
    sent = sent + 1
    if k > #bodies then
      finished = true
      k = #bodies
    end
    return format(k)
  end
  i = i % #bodies + 1
  return format(i)
end

if once then
  local marked = false
  function response()
    if finished and not marked then
      marked = true
      local f = assert(io.open(os.getenv("BENCH_ONCE_DONE") .. "." .. thread_id, "w"))
      f:close()
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d sockerr=%d\n",
    summary.requests, summary.requests / secs,
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
