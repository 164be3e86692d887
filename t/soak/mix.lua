-- wrk script for the soak test (t/soak/run.sh).
-- Reads the request mix from $SOAK_MIX: one line per entry,
--   "<class> <location> <weight> <token|->"   ("-" = no Authorization header)
-- and cycles through it (weighted, each thread from its own offset).
-- Every request carries "X-Soak: <class>.<location>.<send time>", which httpd
-- echoes back (mod_headers "Header always echo"), so response() knows what it
-- answers; it counts "<class> <location> <sent> <received> <status>" at 1 s
-- resolution, and done() writes the merged counts to $SOAK_OUT.
-- SOAK_CLOSE=1 adds "Connection: close" to every request.

local mix = {}
local close = os.getenv("SOAK_CLOSE") == "1"

local function load_mix()
  local f = assert(io.open(assert(os.getenv("SOAK_MIX"), "SOAK_MIX not set"), "r"))
  for line in f:lines() do
    local class, loc, weight, token = line:match("^(%S+)%s+(%S+)%s+(%d+)%s+(%S+)$")
    if class then
      for _ = 1, tonumber(weight) do
        mix[#mix + 1] = { class = class, loc = loc, token = token }
      end
    end
  end
  f:close()
  assert(#mix > 0, "empty mix")
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

agg = {}
local i = 0
local seq = 0

function init(args)
  load_mix()
  -- spread the threads over the cycle
  i = ((id or 1) * 7) % #mix
end

function request()
  i = i % #mix + 1
  seq = seq + 1
  local e = mix[i]
  local headers = { ["X-Soak"] = e.class .. "." .. e.loc .. "." .. os.time() }
  if e.token ~= "-" then
    headers["Authorization"] = "Bearer " .. e.token
  end
  if close then
    headers["Connection"] = "close"
  end
  return wrk.format("GET", "/" .. e.loc .. "/r" .. (seq % 64), headers)
end

function response(status, headers, body)
  local tag = headers["X-Soak"] or headers["x-soak"]
  local class, loc, sent = "?", "?", "0"
  if tag then
    class, loc, sent = tag:match("^([^.]+)%.([^.]+)%.(%d+)$")
    if not class then class, loc, sent = "?", "?", "0" end
  end
  local key = class .. " " .. loc .. " " .. sent .. " " .. os.time() .. " " .. status
  agg[key] = (agg[key] or 0) + 1
end

function done(summary, latency, requests)
  local out = assert(io.open(assert(os.getenv("SOAK_OUT"), "SOAK_OUT not set"), "w"))
  for _, thread in ipairs(threads) do
    local t = thread:get("agg")
    for key, n in pairs(t) do
      out:write(key, " ", n, "\n")
    end
  end
  local e = summary.errors
  out:write(string.format("# wrk requests=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, e.connect, e.read, e.write, e.status, e.timeout))
  out:close()
end
