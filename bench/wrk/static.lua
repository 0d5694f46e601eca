-- wrk script: the same request every time (wrk builds it once).
-- Environment (set by bench/run.sh):
--   BENCH_METHOD      GET or POST
--   BENCH_TOKEN       file holding the bearer token (first line)
--   BENCH_BODY        file holding the request body (POST only; optional)
--   BENCH_STOP_AFTER  optional: stop once this many responses arrived
--                     (bench/run.sh rss; wrk -t1 only, one Lua state)
--   BENCH_STOP_FILE   with BENCH_STOP_AFTER: created when the thread stops,
--                     so that run.sh can end wrk (SIGINT) before -d is over

local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("*a")
    f:close()
    return s
end

local token = (slurp(assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN unset")):gsub("%s+$", ""))

wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json, text/event-stream"

local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
    wrk.body = slurp(body)
    wrk.headers["Content-Type"] = "application/json"
end

local stop_after = tonumber(os.getenv("BENCH_STOP_AFTER") or "")
if stop_after then
    responses = 0
    function response(status, headers, body)
        responses = responses + 1
        if responses == stop_after then
            local marker = os.getenv("BENCH_STOP_FILE")
            if marker then
                local f = io.open(marker, "w")
                if f then f:close() end
            end
            wrk.thread:stop()
        end
    end
end
