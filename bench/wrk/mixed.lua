-- wrk script: a mix of requests, one kind after the other, round robin
-- (bench/run.sh rss).
-- Environment (set by bench/run.sh):
--   BENCH_MIX         file with one kind a line: "METHOD PATH TOKEN-FILE BODY-FILE|- UNIQUE"
--                     UNIQUE 1: TOKEN-FILE holds one token a line, a new one for
--                     each request of that kind (round robin over the list);
--                     0: its first line is the token of every request
--   BENCH_STOP_AFTER  optional: stop once this many responses arrived
--   BENCH_STOP_FILE   with BENCH_STOP_AFTER: created when the thread stops

local mix_file = assert(os.getenv("BENCH_MIX"), "BENCH_MIX unset")

local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("*a")
    f:close()
    return s
end

local function format(method, path, token, body)
    local h = {}
    for k, v in pairs(wrk.headers) do h[k] = v end
    h["Authorization"] = "Bearer " .. token
    h["Accept"] = "application/json, text/event-stream"
    if body then h["Content-Type"] = "application/json" end
    return wrk.format(method, path, h, body)
end

function init(args)
    kinds = {}
    for line in io.lines(mix_file) do
        local method, path, tok, bodyf, uniq = line:match("^(%S+) (%S+) (%S+) (%S+) (%S+)$")
        if method then
            local k = { method = method, path = path }
            if bodyf ~= "-" then k.body = slurp(bodyf) end
            if uniq == "1" then
                k.tokens = {}
                for t in io.lines(tok) do
                    if #t > 0 then k.tokens[#k.tokens + 1] = t end
                end
                k.idx = 0
            else
                k.req = format(method, path, (slurp(tok):gsub("%s+$", "")), k.body)
            end
            kinds[#kinds + 1] = k
        end
    end
    nk = #kinds
    assert(nk > 0, "empty BENCH_MIX")
    i = 0
end

function request()
    i = i % nk + 1
    local k = kinds[i]
    if k.req then return k.req end
    k.idx = k.idx % #k.tokens + 1
    return format(k.method, k.path, k.tokens[k.idx], k.body)
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
