/**
 * The Lua scripts of state.redis, with Dapr's rules (components-contrib `state/redis`): a hash with
 * fields `data`, `version` (HINCRBY) and, for single first-write saves, `first-write` = 0. ETags are
 * passed as decimal integers, "0" meaning "no ETag". Registered with ioredis `defineCommand`, so they
 * run as EVALSHA (EVAL once after a server restart).
 */

/**
 * Save one key. KEYS[1] = key; ARGV = etag ("0" = none), data, first-write ("0" sets the flag),
 * ttl ("" = leave any expiry alone, > 0 = EXPIRE, <= 0 = PERSIST). Returns the new version, or the
 * error `TANDEM_CONFLICT` when the write is not allowed.
 */
export const SET_SCRIPT = `
local key = KEYS[1]
local ty = redis.call("TYPE", key)["ok"]
if ty ~= "hash" and ty ~= "none" then redis.call("DEL", key) end
local ver = redis.call("HGET", key, "version")
local fw = redis.call("HEXISTS", key, "first-write")
if ver and ver ~= "" and ver ~= ARGV[1] and not (fw == 0 and ARGV[1] == "0") then
  return redis.error_reply("TANDEM_CONFLICT failed to set key " .. key)
end
redis.call("HSET", key, "data", ARGV[2])
if ARGV[3] == "0" then redis.call("HSET", key, "first-write", 0) end
local v = redis.call("HINCRBY", key, "version", 1)
if ARGV[4] ~= "" then
  local ttl = tonumber(ARGV[4])
  if ttl > 0 then redis.call("EXPIRE", key, ttl) else redis.call("PERSIST", key) end
end
return v
`;

/** Delete one key. KEYS[1] = key; ARGV[1] = etag ("0" = none). DEL when no ETag, no version, or a match. */
export const DELETE_SCRIPT = `
local key = KEYS[1]
local ty = redis.call("TYPE", key)["ok"]
local ver = false
if ty == "hash" then ver = redis.call("HGET", key, "version") end
if not ver or ver == "" or ver == ARGV[1] or ARGV[1] == "0" then
  return redis.call("DEL", key)
end
return redis.error_reply("TANDEM_CONFLICT failed to delete " .. key)
`;

/**
 * A whole transaction, all or nothing. KEYS[i] = key of operation i; ARGV holds 4 values per
 * operation: kind ("s" save, "d" delete), etag ("0" = none), data, ttl (as in SET_SCRIPT).
 * Phase 1 replays every check in order against a simulated view (so a later operation sees the
 * earlier ones) without writing; phase 2 applies every operation only when all checks passed.
 * Saves in a transaction never set `first-write`, as in Dapr. Fails with `TANDEM_CONFLICT <index>`.
 */
export const MULTI_SCRIPT = `
local sim = {}
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 4
  local kind, etag = ARGV[base + 1], ARGV[base + 2]
  local st = sim[key]
  if st == nil then
    local ty = redis.call("TYPE", key)["ok"]
    if ty == "hash" then
      st = { ver = redis.call("HGET", key, "version"), fw = redis.call("HEXISTS", key, "first-write") == 1 }
    else
      st = { ver = false, fw = false }
    end
  end
  local ok
  if kind == "s" then
    ok = (not st.ver) or st.ver == "" or st.ver == etag or (not st.fw and etag == "0")
    if ok then st = { ver = tostring((tonumber(st.ver) or 0) + 1), fw = st.fw } end
  else
    ok = (not st.ver) or st.ver == "" or st.ver == etag or etag == "0"
    if ok then st = { ver = false, fw = false } end
  end
  if not ok then return redis.error_reply("TANDEM_CONFLICT " .. (i - 1)) end
  sim[key] = st
end
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 4
  if ARGV[base + 1] == "s" then
    local ty = redis.call("TYPE", key)["ok"]
    if ty ~= "hash" and ty ~= "none" then redis.call("DEL", key) end
    redis.call("HSET", key, "data", ARGV[base + 3])
    redis.call("HINCRBY", key, "version", 1)
    local ttl = ARGV[base + 4]
    if ttl ~= "" then
      if tonumber(ttl) > 0 then redis.call("EXPIRE", key, tonumber(ttl)) else redis.call("PERSIST", key) end
    end
  else
    redis.call("DEL", key)
  end
end
return #KEYS
`;
