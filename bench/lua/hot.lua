-- One token on every request (the "hot" scenarios and the memory run).
-- BENCH_TOKEN: the bearer token (default tokhot).
local token = os.getenv("BENCH_TOKEN") or "tokhot"
wrk.headers["Authorization"] = "Bearer " .. token
