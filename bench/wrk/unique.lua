-- wrk script: a different bearer token for every request.
-- Environment (set by bench/run.sh):
--   BENCH_METHOD        GET or POST
--   BENCH_TOKENS        file with one token per line
--   BENCH_TOKEN_OFFSET  index (0-based) of the first token to use, so that
--                       successive runs use tokens not used before
--   BENCH_BODY          optional request body file
-- done() prints "tokens: used=U total=T offset=O wraps=W"; W > 0 means the
-- list was too short for the run and tokens were reused.

local tokens_file = assert(os.getenv("BENCH_TOKENS"), "BENCH_TOKENS unset")
local offset = tonumber(os.getenv("BENCH_TOKEN_OFFSET") or "0")
local threads = {}

wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.headers["Accept"] = "application/json, text/event-stream"
local body_file = os.getenv("BENCH_BODY")
if body_file and body_file ~= "" then
    local f = assert(io.open(body_file, "rb"))
    wrk.body = f:read("*a")
    f:close()
    wrk.headers["Content-Type"] = "application/json"
end

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    tokens = {}
    for line in io.lines(tokens_file) do
        if #line > 0 then tokens[#tokens + 1] = line end
    end
    n = #tokens
    idx = offset % n
    used = 0
    wraps = 0
    hdrs = {}
    for k, v in pairs(wrk.headers) do hdrs[k] = v end
end

function request()
    if idx >= n then
        idx = 0
        wraps = wraps + 1
    end
    idx = idx + 1
    used = used + 1
    hdrs["Authorization"] = "Bearer " .. tokens[idx]
    return wrk.format(nil, nil, hdrs)
end

function done(summary, latency, requests)
    for _, t in ipairs(threads) do
        io.write(string.format("tokens: used=%d total=%d offset=%d wraps=%d\n",
            t:get("used"), t:get("n"), offset, t:get("wraps")))
    end
end
