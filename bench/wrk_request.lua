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

-- The click wave's members (bench/sign.py writes one token per line): each request
-- takes the next one for {akid}, from BENCH_OFFSET on, so none is used twice in a run.
local tokens = {}
local tokens_file = os.getenv("BENCH_TOKENS") or ""
if tokens_file ~= "" then
  for line in io.lines(tokens_file) do
    tokens[#tokens + 1] = line
  end
end
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")

local counter = 0
local thread_id = 0
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

-- Built on first use: wrk fills in the Host header only after the script has loaded.
local fixed = nil

local function member()
  return tokens[((offset + counter) % #tokens) + 1]
end

request = function()
  if template == "" and #tokens == 0 then
    fixed = fixed or wrk.format(method, path, headers)
    return fixed
  end
  counter = counter + 1
  if template == "" then
    return wrk.format(method, path:gsub("{akid}", member()), headers)
  end
  -- Many domains and one address per request, as a crowd (the rate limits, bench/sign.py).
  local email = prefix .. "-" .. thread_id .. "-" .. counter .. "%40d" .. (counter % 1000)
    .. ".bench.example.org"
  local body = template:gsub("{email}", function() return email end)
  if #tokens > 0 then
    body = body:gsub("{akid}", member())
  end
  local n = (thread_id * 1000003 + counter) % 16777216
  headers["X-Forwarded-For"] = "10." .. math.floor(n / 65536) .. "."
    .. (math.floor(n / 256) % 256) .. "." .. (n % 256)
  return wrk.format(method, path, headers, body)
end
