-- wrk script: every request is a complete, valid survey submission.
-- Arguments (after `--`): tokens file ("-" for none), body template file, wrk
-- threads, scale min, scale max, and optionally the path (default
-- "/s/{token}/": GapSurvey's customer link, one token per request) and a
-- Cookie header (the peer's CSRF cookie).
-- The body template holds the whole form with "{v<n>}" placeholders, one per
-- item, filled with a random value on the scale per request.
-- Each wrk thread takes every nth token (n = threads), so no token is used twice.
-- A path without "{token}" (the peer, the floor) uses no tokens.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local step = tonumber(args[3])
  path = args[6] or "/s/{token}/"
  cookie = args[7]
  if cookie == "" then cookie = nil end
  uses_tokens = string.find(path, "{token}", 1, true) ~= nil
  tokens = {}
  if uses_tokens then
    local n = 0
    for line in io.lines(args[1]) do
      if n % step == thread_index then
        table.insert(tokens, line)
      end
      n = n + 1
    end
  end
  local file = io.open(args[2], "r")
  template = file:read("*a")
  file:close()
  scale_min = tonumber(args[4])
  scale_max = tonumber(args[5])
  next_token = 1
  used_up = 0
  s302, s200, s400, s404, s429, other = 0, 0, 0, 0, 0, 0
  math.randomseed(os.time() + thread_index)
end

function request()
  local target = path
  if uses_tokens then
    local token = tokens[next_token]
    if token == nil then
      -- Out of tokens: count it; the run's results are then not valid.
      used_up = used_up + 1
      token = tokens[1]
    else
      next_token = next_token + 1
    end
    local at = string.find(path, "{token}", 1, true)
    target = string.sub(path, 1, at - 1) .. token .. string.sub(path, at + 7)
  end
  local body = template:gsub("{v%d+}", function()
    return tostring(math.random(scale_min, scale_max))
  end)
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  if cookie then headers["Cookie"] = cookie end
  return wrk.format("POST", target, headers, body)
end

function response(status, headers, body)
  if status == 302 then s302 = s302 + 1
  elseif status == 200 then s200 = s200 + 1
  elseif status == 400 then s400 = s400 + 1
  elseif status == 404 then s404 = s404 + 1
  elseif status == 429 then s429 = s429 + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local totals = {s302 = 0, s200 = 0, s400 = 0, s404 = 0, s429 = 0, other = 0, used_up = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + (thread:get(key) or 0)
    end
  end
  local seconds = summary.duration / 1e6
  io.write("BENCH_JSON {")
  io.write(string.format('"requests": %d, "seconds": %.3f, ', summary.requests, seconds))
  io.write(string.format('"errors_connect": %d, "errors_read": %d, "errors_write": %d, ',
    summary.errors.connect, summary.errors.read, summary.errors.write))
  io.write(string.format('"errors_status": %d, "errors_timeout": %d, ',
    summary.errors.status, summary.errors.timeout))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format('"p%s_ms": %.2f, ', tostring(p), latency:percentile(p) / 1000))
  end
  io.write(string.format('"mean_ms": %.2f, "max_ms": %.2f, ', latency.mean / 1000, latency.max / 1000))
  io.write(string.format('"status_302": %d, "status_200": %d, "status_400": %d, ',
    totals.s302, totals.s200, totals.s400))
  io.write(string.format('"status_404": %d, "status_429": %d, "status_other": %d, ',
    totals.s404, totals.s429, totals.other))
  io.write(string.format('"tokens_used_up": %d}\n', totals.used_up))
end
