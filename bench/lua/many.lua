-- BENCH_MANY distinct tokens, cycled in order (the "hot-many" scenario).
-- The requests are formatted once in init() so that the client's cost per
-- request stays close to the hot script's.
local n = tonumber(os.getenv("BENCH_MANY") or "10000")
local prefix = os.getenv("BENCH_MANY_PREFIX") or "tokmany"
-- pad tokens to a realistic opaque-token length (~48 characters)
local pad = "Yx9QmZ3kPq7Lr2Vt5Ws8Nb4Hc6Jd1Fg0"
local reqs = {}
local i = 0
local offset = 0
local threads = 0

function setup(thread)
   thread:set("offset", threads * 7919)
   threads = threads + 1
end

function init(args)
   offset = tonumber(wrk.thread:get("offset") or 0) or 0
   for k = 0, n - 1 do
      local tok = string.format("%s%06d%s", prefix, k, pad)
      reqs[k] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tok })
   end
   i = offset % n
end

function request()
   local r = reqs[i]
   i = i + 1
   if i >= n then i = 0 end
   return r
end
