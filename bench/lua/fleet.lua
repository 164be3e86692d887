-- The fleet scenarios: two httpd servers (A, B) sharing one cache. wrk
-- thread k talks to the k-th port of BENCH_FLEET_PORTS (round robin), so
-- with -t2 half of the connections go to A and half to B.
-- BENCH_MODE:
--   hot   one token (BENCH_TOKEN) on every request
--   many  BENCH_MANY distinct tokens (BENCH_MANY_PREFIX, as many.lua),
--         cycled in order, each thread from its own offset, requests
--         pre-formatted so that the client's cost stays close to hot's
--   cold  a token never seen before on every request (BENCH_RUN, as cold.lua)
local ports = {}
for p in string.gmatch(os.getenv("BENCH_FLEET_PORTS") or "", "%d+") do
   ports[#ports + 1] = p
end
local mode = os.getenv("BENCH_MODE") or "hot"
local token = os.getenv("BENCH_TOKEN") or "tokhot"
local n = tonumber(os.getenv("BENCH_MANY") or "2000")
local prefix = os.getenv("BENCH_MANY_PREFIX") or "tokmany"
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local manypad = "Yx9QmZ3kPq7Lr2Vt5Ws8Nb4Hc6Jd1Fg0"
local coldpad = "Qm7Zk3Lr2Vt5Ws8Nb4Hc6Jd1"
local threads = 0
local addrs = {}
local reqs = {}
local i = 0
local tid = 0
local counter = 0
local hotreq = nil

function setup(thread)
   local k = threads
   threads = threads + 1
   if #ports > 0 then
      local p = ports[(k % #ports) + 1]
      if not addrs[p] then
         addrs[p] = wrk.lookup("127.0.0.1", p)[1]
      end
      thread.addr = addrs[p]
   end
   thread:set("tid", k)
end

function init(args)
   tid = tonumber(wrk.thread:get("tid") or 0) or 0
   if mode == "many" then
      for k = 0, n - 1 do
         local tok = string.format("%s%06d%s", prefix, k, manypad)
         reqs[k] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tok })
      end
      i = (tid * 7919) % n
   elseif mode == "hot" then
      hotreq = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. token })
   end
end

function request()
   if mode == "many" then
      local r = reqs[i]
      i = i + 1
      if i >= n then i = 0 end
      return r
   elseif mode == "cold" then
      counter = counter + 1
      local tok = string.format("tokcold%s-%d-%d%s", run, tid, counter, coldpad)
      return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tok })
   end
   return hotreq
end
