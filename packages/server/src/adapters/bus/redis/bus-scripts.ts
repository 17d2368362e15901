import type { RedisConnection } from '../../redis-connection.js';

/**
 * Lua scripts of the Redis bus. Each runs atomically in Redis, which is what makes a check and
 * the write that depends on it safe against other nodes acting on the same device.
 */

/**
 * Looks up the holder and publishes to its node in one step, so a signal reaches the node that
 * holds the device when it is sent, or nobody. When the holder is the calling node it publishes
 * nothing and the caller delivers locally, saving a round trip through pub/sub.
 * KEYS[1] directory key; ARGV[1] calling node; ARGV[2] node channel prefix; ARGV[3] message.
 * Returns the holder (`<nodeId>|<connectionId>`) or nil.
 */
const SIGNAL_LUA = `
local holder = redis.call('GET', KEYS[1])
if not holder then return nil end
local sep = string.find(holder, '|', 1, true)
if not sep then return nil end
local node = string.sub(holder, 1, sep - 1)
if node ~= ARGV[1] then
  redis.call('PUBLISH', ARGV[2] .. node, ARGV[3])
end
return holder
`;

/**
 * Takes the device for a connection unless a newer one holds it: connection ids sort in the order
 * connections were opened, so the newest wins whichever claim lands first.
 * KEYS[1] directory key; ARGV[1] the new holder; ARGV[2] TTL in ms; ARGV[3] its connection id.
 * Returns {1, previous holder or nothing} when taken, {0, holder} when refused.
 */
const CLAIM_LUA = `
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, '|', 1, true)
  if sep and string.sub(current, sep + 1) > ARGV[3] then return {0, current} end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if current then return {1, current} end
return {1}
`;

/**
 * Deletes each key only while it still names the given holder, so a late release of a replaced
 * connection never removes the new one. KEYS directory keys; ARGV the holders, in the same order.
 * Returns how many were deleted.
 */
const RELEASE_LUA = `
local deleted = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then
    redis.call('DEL', key)
    deleted = deleted + 1
  end
end
return deleted
`;

/**
 * The liveness beat of a node: extends the TTL of each entry that still names it. An entry that
 * has vanished (Redis restarted or was flushed) is written again, since the socket is still here.
 * An entry naming another holder is left alone and reported: that device was taken over, and its
 * `replaced` signal may have been lost with a pub/sub connection.
 * KEYS directory keys; ARGV[1] TTL in ms; ARGV[2..] the holders, in the same order.
 * Returns the 1-based positions of the entries taken over.
 */
const REFRESH_LUA = `
local taken = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  local mine = ARGV[i + 1]
  if holder == mine then
    redis.call('PEXPIRE', key, ARGV[1])
  elseif not holder then
    redis.call('SET', key, mine, 'PX', ARGV[1])
  else
    table.insert(taken, i)
  end
end
return taken
`;

/**
 * PUBLISH, sent to the master of KEYS[1]'s slot. In a Redis Cluster a plain PUBLISH goes to any
 * node, and two of them sent one after the other may reach subscribers in either order; routed
 * by a key, the publishes about one user (or all presence changes) leave one master in order.
 * KEYS[1] the routing key (never written); ARGV[1] channel; ARGV[2] message.
 */
const PUBLISH_LUA = `
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`;

export interface BusCommands {
  courierBusPublish(routingKey: string, channel: string, message: string): Promise<number>;
  courierBusClaim(key: string, holder: string, ttlMs: number, connectionId: string): Promise<[number, string?]>;
  courierBusSignal(key: string, nodeId: string, channelPrefix: string, message: string): Promise<string | null>;
  /** Takes the number of keys first, then the keys, then the holders. */
  courierBusRelease(...args: (string | number)[]): Promise<number>;
  /** Takes the number of keys first, then the keys, then the TTL and the holders. */
  courierBusRefresh(...args: (string | number)[]): Promise<number[]>;
}

/** Registers the scripts (sent by SHA, with a fallback to the source when Redis lacks them). */
export function withBusCommands(redis: RedisConnection): RedisConnection & BusCommands {
  redis.defineCommand('courierBusClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
  redis.defineCommand('courierBusSignal', { numberOfKeys: 1, lua: SIGNAL_LUA });
  redis.defineCommand('courierBusPublish', { numberOfKeys: 1, lua: PUBLISH_LUA });
  redis.defineCommand('courierBusRelease', { lua: RELEASE_LUA });
  redis.defineCommand('courierBusRefresh', { lua: REFRESH_LUA });
  // defineCommand adds the methods at run time; ioredis cannot type them.
  return redis as RedisConnection & BusCommands;
}
