-- Tokens read from a file (one per line, minted in advance by jwt.js): the
-- JWT scenarios. BENCH_TOKENS_FILE names the file; BENCH_TOKENS_SKIP lines
-- are skipped first, then BENCH_TOKENS_COUNT lines (default: all) are used.
-- Thread k of BENCH_TOKENS_THREADS (= wrk -t) takes every T-th of them from
-- the k-th on and cycles through its share in order, the requests
-- pre-formatted so that the client's cost stays close to hot.lua's. For
-- jwt-cold (every token new) bench.py compares the requests made with the
-- tokens available: more requests than tokens means some were sent twice,
-- and the table says so.
local file = os.getenv("BENCH_TOKENS_FILE")
local skip = tonumber(os.getenv("BENCH_TOKENS_SKIP") or "0") or 0
local count = tonumber(os.getenv("BENCH_TOKENS_COUNT") or "0") or 0
local nth = tonumber(os.getenv("BENCH_TOKENS_THREADS") or "1") or 1
local threads = 0
local reqs = {}
local n = 0
local i = 1

function setup(thread)
   thread:set("tid", threads)
   threads = threads + 1
end

function init(args)
   local tid = tonumber(wrk.thread:get("tid") or 0) or 0
   local f = assert(io.open(file, "r"), "cannot open " .. tostring(file))
   local line = 0
   local used = 0
   for tok in f:lines() do
      line = line + 1
      if line > skip then
         if count > 0 and used >= count then break end
         if (used % nth) == tid then
            n = n + 1
            reqs[n] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tok })
         end
         used = used + 1
      end
   end
   f:close()
end

function request()
   local r = reqs[i]
   i = i + 1
   if i > n then i = 1 end
   return r
end
