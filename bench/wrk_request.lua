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
  local email = prefix .. "-" .. thread_id .. "-" .. counter .. "%40bench.example.org"
  local body = template:gsub("{email}", function() return email end)
  return wrk.format(method, path, headers, body)
end
