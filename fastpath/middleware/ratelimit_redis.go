package middleware

import (
	"context"
	"crypto/tls"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions is a rateLimit's redis block (Traefik's defaults: the
// endpoint localhost:6379, 5 s to dial, 3 s to read and to write; a
// timeout of 0 or less is none).
type RedisOptions struct {
	Endpoints                              []string
	Username, Password                     string
	DB, PoolSize, MinIdleConns, MaxActive  int
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
	TLS                                    *tls.Config
}

// RedisLimiter is a rate limit shared by every replica through Redis, as
// Traefik's redis limiter keeps it: per source a hash "rate:<middleware>:
// <source>" with the time of the last request and the tokens left (in
// microseconds and tokens, the fields Traefik uses, so a Traefik and a
// Sluice fleet share buckets), updated by one script per request.
type RedisLimiter struct {
	client  redis.UniversalClient
	prefix  string
	lastLog atomic.Int64 // the Unix second of the last error logged
}

// NewRedisLimiter connects lazily (go-redis dials on first use) for the
// Middleware named name (as Traefik names it, "<ns>-<name>@kubernetescrd").
func NewRedisLimiter(name string, o RedisOptions) *RedisLimiter {
	opts := &redis.UniversalOptions{Addrs: o.Endpoints, Username: o.Username, Password: o.Password, DB: o.DB,
		PoolSize: o.PoolSize, MinIdleConns: o.MinIdleConns, MaxActiveConns: o.MaxActive, TLSConfig: o.TLS,
		DialTimeout: o.DialTimeout, ReadTimeout: noneIfZero(o.ReadTimeout), WriteTimeout: noneIfZero(o.WriteTimeout)}
	return &RedisLimiter{client: redis.NewUniversalClient(opts), prefix: "rate:" + name + ":"}
}

func noneIfZero(d time.Duration) time.Duration {
	if d <= 0 {
		return -1 // go-redis: no timeout
	}
	return d
}

// Close closes the connections (a table that no longer uses the limiter).
func (r *RedisLimiter) Close() error { return r.client.Close() }

// tokenBucket takes a token of the bucket at KEYS[1] at time ARGV[4] (µs):
// the bucket refills at ARGV[1] tokens per µs up to ARGV[2]; a request
// that would wait longer than ARGV[5] µs takes none. It answers
// {"true", wait in µs, tokens left}, and keeps the hash ARGV[3] seconds.
var tokenBucket = redis.NewScript(`
local rate, burst, ttl, now, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 'last', 'tokens')
local last, tokens = tonumber(state[1]), tonumber(state[2])
if last == nil or tokens == nil then
    last, tokens = 0, 0
end
if now < last then
    last = now
end
tokens = math.min(tokens + rate * (now - last), burst) - 1
local wait = 0
if tokens < 0 then
    wait = -tokens / rate
    if wait > max_wait then
        tokens = math.min(tokens + 1, burst)
    end
end
redis.call('HSET', KEYS[1], 'last', now, 'tokens', tokens)
redis.call('EXPIRE', KEYS[1], ttl)
return {tostring(true), tostring(wait), tostring(tokens)}
`)

// TokenBucketScript is the script the limiter runs (a test compares it
// with Traefik's on a real Redis).
func TokenBucketScript() *redis.Script { return tokenBucket }

var errRedisReply = errors.New("unexpected reply from the rate limit script")

// allow runs the script for source: the wait it computed, and whether it
// let the request through (the script always does; Traefik checks).
func (r *RedisLimiter) allow(ctx context.Context, source []byte, l *limits) (time.Duration, bool, error) {
	v, err := tokenBucket.Run(ctx, r.client, []string{r.prefix + string(source)},
		l.rate/1e6, int64(l.burst), l.ttl, time.Now().UnixMicro(), l.maxDelay.Microseconds()).Result()
	if err != nil {
		return 0, false, err
	}
	values, ok := v.([]any)
	if !ok || len(values) < 2 {
		return 0, false, errRedisReply
	}
	okText, _ := values[0].(string)
	waitText, _ := values[1].(string)
	allowed, err := strconv.ParseBool(okText)
	if err != nil {
		return 0, false, errRedisReply
	}
	wait, err := strconv.ParseFloat(waitText, 64)
	if err != nil {
		return 0, false, errRedisReply
	}
	return time.Duration(wait * float64(time.Microsecond)), allowed, nil
}
