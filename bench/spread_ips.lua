-- wrk: each request from a random private address (X-Forwarded-For), so a page's
-- per-visitor rate limit is checked on every request without refusing the run's.
math.randomseed(os.time())
request = function()
  wrk.headers["X-Forwarded-For"] = string.format(
    "10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format(nil)
end
