-- Used by bench/sign.py when wrk is installed: one request per call, with a distinct
-- email wherever the body template says {email}. Settings come from the environment.
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local template = os.getenv("BENCH_BODY") or ""
local prefix = os.getenv("BENCH_PREFIX") or "w"
local headers = {}
if template ~= "" then
  headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local cookie = os.getenv("BENCH_COOKIE") or ""
if cookie ~= "" then
  headers["Cookie"] = cookie
end

local counter = 0
local thread_id = 0
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

-- Built on first use: wrk fills in the Host header only after the script has loaded.
local fixed = nil

request = function()
  if template == "" then
    fixed = fixed or wrk.format(method, path, headers)
    return fixed
  end
  counter = counter + 1
  -- Many domains and one address per request, as a crowd (the rate limits, bench/sign.py).
  local email = prefix .. "-" .. thread_id .. "-" .. counter .. "%40d" .. (counter % 1000)
    .. ".bench.example.org"
  local body = template:gsub("{email}", function() return email end)
  local n = (thread_id * 1000003 + counter) % 16777216
  headers["X-Forwarded-For"] = "10." .. math.floor(n / 65536) .. "."
    .. (math.floor(n / 256) % 256) .. "." .. (n % 256)
  return wrk.format(method, path, headers, body)
end
