package accesslog

import "time"

// Formats, as Traefik names them.
const (
	Common     = "common"
	GenericCLF = "genericCLF"
	JSON       = "json"
)

// Mode is a field's or header's fate in a line.
type Mode uint8

const (
	Keep Mode = iota
	Drop
	Redact // headers only: the value becomes REDACTED
)

// Config is --accesslog.*, with Traefik's defaults from NewConfig.
type Config struct {
	Format        string // Common, GenericCLF or JSON
	FilePath      string // "": standard output
	BufferingSize int    // lines queued for the writer; 0: DefaultQueue
	Filters       *Filters
	Fields        Fields
	// OnWriteError, when set, hears of failing writes (writeerr.go):
	// err and the lines lost since the last call; err nil when writes
	// succeed again. It is called on the writer's goroutine.
	OnWriteError func(err error, linesLost uint64)
}

// DefaultQueue is the queue length when bufferingSize is 0. Traefik then
// writes in the request's goroutine; Sluice never writes there, so a
// queue always exists.
const DefaultQueue = 1024

// Filters keep a line when any holds (Traefik's keepAccessLog); with none
// set, every line is kept.
type Filters struct {
	StatusCodes   [][2]int // inclusive ranges
	RetryAttempts bool
	MinDuration   time.Duration
}

// Fields are --accesslog.fields.*: the default mode and per-name modes of
// the core fields (names lower-cased) and of headers (canonical names),
// and whether the path keeps its query.
type Fields struct {
	DefaultMode    Mode
	Names          map[string]Mode
	HeadersDefault Mode
	Headers        map[string]Mode
	DropQuery      bool
}

// NewConfig is Traefik's default access log: common format to standard
// output, every core field kept, every header dropped, queries kept.
func NewConfig() *Config {
	return &Config{Format: Common, Fields: Fields{HeadersDefault: Drop}}
}

// keepField is Traefik's AccessLogFields.Keep: Redact counts as the
// default for a core field.
func (f *Fields) keepField(lower string) bool {
	def := f.DefaultMode != Drop
	if m, ok := f.Names[lower]; ok {
		switch m {
		case Keep:
			return true
		case Drop:
			return false
		}
	}
	return def
}

// header is Traefik's KeepHeader for a canonical header name.
func (f *Fields) header(canonical string) Mode {
	if m, ok := f.Headers[canonical]; ok {
		return m
	}
	return f.HeadersDefault
}

// wantsHeaders: some header can appear in a line, so the front end must
// copy them.
func (f *Fields) wantsHeaders() bool {
	if f.HeadersDefault != Drop {
		return true
	}
	for _, m := range f.Headers {
		if m != Drop {
			return true
		}
	}
	return false
}

// keep is Traefik's keepAccessLog.
func (c *Config) keep(status, retries int, d time.Duration) bool {
	fl := c.Filters
	if fl == nil || len(fl.StatusCodes) == 0 && !fl.RetryAttempts && fl.MinDuration == 0 {
		return true
	}
	for _, r := range fl.StatusCodes {
		if status >= r[0] && status <= r[1] {
			return true
		}
	}
	return fl.RetryAttempts && retries > 0 || fl.MinDuration > 0 && d > fl.MinDuration
}
