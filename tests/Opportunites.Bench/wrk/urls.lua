-- wrk script: cycles through the request paths of a file (one per line), each thread from its own offset, and ends
-- with one parseable line:
--   wrk-result requests=N seconds=S rps=R p50_ms=A p90_ms=B p99_ms=C non2xx=E socket_errors=F bytes=G
-- Usage: wrk -t2 -c16 -d20s -s urls.lua http://127.0.0.1:5186 -- urls.txt
-- Any status outside 200-299 counts in non2xx (wrk's own summary lets 3xx pass).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  if #paths == 0 then error("no path in " .. tostring(args[1])) end
  -- Spread the threads over the file (golden-ratio offsets: init runs before the next thread exists, so the thread
  -- count is unknown here) so that they do not request the same pages in step.
  local f = (id * 0.6180339887) % 1
  index = math.floor(#paths * f) % #paths
  non2xx = 0
end

function request()
  index = index + 1
  if index > #paths then index = 1 end
  return wrk.format("GET", paths[index])
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non2xx") or 0) end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "wrk-result requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d bytes=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    bad, e.connect + e.read + e.write + e.timeout, summary.bytes))
end
