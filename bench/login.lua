-- wrk script for autho's login: every request carries the next seeded
-- "api_token partner_token" pair of the file named by BENCH_PAIRS, so that
-- no two requests in a row use the same token (no cache can flatter a
-- server). Each wrk thread starts at its own offset in the list.
--
-- BENCH_MODE=badsum spoils the last checksum character of the partner
-- token: every answer is then 401 "02", refused before any database work.
--
-- done() prints one "BENCH" line that bench/run reads.

local pairs_file = os.getenv("BENCH_PAIRS")
local mode = os.getenv("BENCH_MODE") or "ok"

local bodies = {}
local threads = 0

local function load()
  local f = assert(io.open(pairs_file, "r"))
  for line in f:lines() do
    local api, ptn = line:match("^(%S+) (%S+)$")
    if api then
      if mode == "badsum" then
        local last = ptn:sub(-1)
        ptn = ptn:sub(1, -2) .. (last == "0" and "1" or "0")
      end
      bodies[#bodies + 1] = '{"api_token":"' .. api .. '","partner_token":"' .. ptn .. '"}'
    end
  end
  f:close()
  assert(#bodies > 0, "no pairs in " .. pairs_file)
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
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
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
