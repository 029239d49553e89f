-- webhook.lua — wrk script: POST a TradingView-style JSON signal to the webhook,
-- every request with its own alert id (so each one is journaled and executed,
-- never answered as a duplicate).
--
--   wrk -t2 -c32 -d5s --latency -s scripts/bench/webhook.lua \
--       http://127.0.0.1:PORT/webhook -- SECRET PLUGIN [RUN_TAG]
--
-- Ids are "<run tag>-<wrk thread>-<counter>": unique across wrk's threads and,
-- with a different RUN_TAG, across runs against the same data directory.

local nthreads = 0

function setup(thread)
    nthreads = nthreads + 1
    thread:set("tid", nthreads)
end

local counter = 0
local prefix, secret, plugin

function init(args)
    secret = args[1] or "test-secret"
    plugin = args[2] or "passthru"
    prefix = string.format("%s-%d-", args[3] or "bench", tid)
end

function request()
    counter = counter + 1
    local body = string.format(
        '{"secret":"%s","plugin":"%s","action":"buy","symbol":"EURUSD",' ..
        '"price":1.1,"lot":0.01,"id":"%s%d"}', secret, plugin, prefix, counter)
    return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
