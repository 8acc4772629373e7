-- Replay: every pre-built request is sent exactly once, then the thread stops.
--
--   wrk -tT -cC -dMAXs --latency -s bench/replay.lua URL -- DIR [TEXT]
--
-- DIR/requests-<n>.bin holds thread n's share: raw HTTP requests, each ended by a NUL.
-- On stderr: "replay-ready <n> <count>" once loaded, and when every one is answered
-- "replay-done <n> <status>=<count>... match=<k>" (k: bodies containing TEXT). bench/wrk.py
-- waits for every thread's line, then stops wrk with SIGINT: -d is only an upper bound.

local PARK_MS = 3600 * 1000 -- a connection with nothing left to send idles until the end
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local requests, claimed, served, answered, matched = {}, 0, 0, 0, 0
local statuses, text = {}, nil

local function load(path)
  local file = assert(io.open(path, "rb"))
  local data = file:read("*a")
  file:close()
  local list, start = {}, 1
  while start <= #data do
    local stop = string.find(data, "\0", start, true)
    list[#list + 1] = string.sub(data, start, stop - 1)
    start = stop + 1
  end
  return list
end

function init(args)
  requests = load(args[1] .. "/requests-" .. id .. ".bin")
  text = args[2]
  io.stderr:write(string.format("replay-ready %d %d\n", id, #requests))
end

-- wrk calls delay() before each request() a connection sends: claim the next request
-- here, or park the connection when none is left.
function delay()
  if claimed >= #requests then
    return PARK_MS
  end
  claimed = claimed + 1
  return 0
end

function request()
  if served < claimed then
    served = served + 1
    return requests[served]
  end
  -- wrk parses one request() before any connection opens (to count pipelined
  -- requests): that one is never sent, so it claims nothing.
  return requests[1]
end

function response(status, headers, body)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if text and body and string.find(body, text, 1, true) then
    matched = matched + 1
  end
  if answered == #requests then
    local counts = {}
    for code, count in pairs(statuses) do
      counts[#counts + 1] = code .. "=" .. count
    end
    io.stderr:write(string.format(
      "replay-done %d %s match=%d\n", id, table.concat(counts, " "), matched))
    wrk.thread:stop()
  end
end
