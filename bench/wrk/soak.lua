-- wrk script for bench/run.sh soak: POSTs a JSON-RPC body with one of a list
-- of bearer tokens (rotated per request when there are several) and counts
-- the answers whose status is not the expected one.
-- Environment (set by bench/run.sh):
--   SOAK_KIND      name printed in the summary (valid, invalid, denied)
--   SOAK_EXPECT    the expected HTTP status (200, 401, 403)
--   SOAK_TOKENS    file with one bearer token per line
--   SOAK_BODY      file holding the request body (application/json)
--   SOAK_PROGRESS  optional: file rewritten every SOAK_EVERY (1000) answers
--                  of a thread with "answers unexpected" (one file per
--                  thread: SOAK_PROGRESS.<thread number>), so that run.sh can
--                  follow the run and stop it
-- done() prints one line summed over the threads (thread:get):
--   soak: kind=K expect=E answers=N unexpected=U statuses=200:N,...
-- wrk itself prints the socket errors.

local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("*a")
    f:close()
    return s
end

local kind = os.getenv("SOAK_KIND") or "?"
local expect = assert(tonumber(os.getenv("SOAK_EXPECT") or ""), "SOAK_EXPECT unset")
local tokens_file = assert(os.getenv("SOAK_TOKENS"), "SOAK_TOKENS unset")
local progress = os.getenv("SOAK_PROGRESS")
local every = tonumber(os.getenv("SOAK_EVERY") or "") or 1000

local tokens = {}
for line in io.lines(tokens_file) do
    if #line > 0 then tokens[#tokens + 1] = line end
end
assert(#tokens > 0, "no token in " .. tokens_file)

wrk.method = "POST"
wrk.body = slurp(assert(os.getenv("SOAK_BODY"), "SOAK_BODY unset"))
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Authorization"] = "Bearer " .. tokens[1]

local threads = {}

function setup(thread)
    threads[#threads + 1] = thread
    thread:set("thread_no", #threads)
end

function init(args)
    answers = 0
    unexpected = 0
    statuses = {}
    idx = 0
    hdrs = {}
    for k, v in pairs(wrk.headers) do hdrs[k] = v end
    if progress then progress_file = progress .. "." .. tostring(thread_no or 1) end
end

if #tokens > 1 then
    -- one request after the other with the next token (wrk calls request()
    -- for every request when it is defined; with one token wrk builds the
    -- request once)
    function request()
        idx = idx % #tokens + 1
        hdrs["Authorization"] = "Bearer " .. tokens[idx]
        return wrk.format(nil, nil, hdrs)
    end
end

local function write_progress()
    -- write then rename, so that a reader never sees a half-written file
    local tmp = progress_file .. ".tmp"
    local f = io.open(tmp, "w")
    if f then
        f:write(answers, " ", unexpected, "\n")
        f:close()
        os.rename(tmp, progress_file)
    end
end

function response(status, headers, body)
    answers = answers + 1
    statuses[status] = (statuses[status] or 0) + 1
    if status ~= expect then unexpected = unexpected + 1 end
    if progress_file and answers % every == 0 then write_progress() end
end

function done(summary, latency, requests)
    local n, u, st = 0, 0, {}
    for _, t in ipairs(threads) do
        n = n + t:get("answers")
        u = u + t:get("unexpected")
        for code, c in pairs(t:get("statuses")) do st[code] = (st[code] or 0) + c end
    end
    local codes = {}
    for code in pairs(st) do codes[#codes + 1] = code end
    table.sort(codes)
    local parts = {}
    for _, code in ipairs(codes) do parts[#parts + 1] = code .. ":" .. st[code] end
    io.write(string.format("soak: kind=%s expect=%d answers=%d unexpected=%d statuses=%s\n",
        kind, expect, n, u, table.concat(parts, ",")))
end
