-- wrk script for a flood of portal sign-ins: every request names a new
-- unknown email and claims a new client address in X-Forwarded-For (the
-- server trusts loopback's), as a botnet spraying passwords would, so that
-- the per-address and per-email throttles stop none of them and each one
-- would cost an argon2 check. bench/run drives it beside login.lua to see
-- what the flood does to the partner login.
--
-- done() prints one "FLOOD" line for the log.

local n = 0

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  wrk.method = "POST"
  wrk.path = "/portal/login"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  n = n + 1
  local ip = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  local body = string.format("email=nobody%d.%d%%40flood.example&password=not+the+right+pass+phrase", math.random(1, 1e9), n)
  return wrk.format(nil, nil, { ["X-Forwarded-For"] = ip, ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

function done(summary, latency, requests)
  io.write(string.format("FLOOD requests=%d non2xx=%d p50_us=%d p99_us=%d\n", summary.requests,
    summary.errors.status, latency:percentile(50), latency:percentile(99)))
end
