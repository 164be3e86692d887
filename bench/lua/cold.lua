-- Every request carries a token never seen before (the "cold" scenario and
-- the memory run's distinct tokens). BENCH_RUN makes tokens unique across
-- runs; each thread adds its own number.
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local pad = "Qm7Zk3Lr2Vt5Ws8Nb4Hc6Jd1"
local threads = 0
local tid = 0
local counter = 0
local path = nil

function setup(thread)
   thread:set("tid", threads)
   threads = threads + 1
end

function init(args)
   tid = tonumber(wrk.thread:get("tid") or 0) or 0
end

function request()
   counter = counter + 1
   local tok = string.format("tokcold%s-%d-%d%s", run, tid, counter, pad)
   return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tok })
end
